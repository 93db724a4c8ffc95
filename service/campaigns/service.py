"""Campaign rules: create and edit campaigns, their sentences, languages and translations.

Services flush; the request (or unit of work) commits. A changed sentence resets its
translations to draft: a translation approved for the old wording must be checked again.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlalchemy import update
from sqlalchemy.orm import Session

from service.campaigns.repository import translations_by_sentence
from service.campaigns.schemas import CampaignIn
from service.models import (
    Campaign,
    CampaignLanguage,
    Invite,
    Sentence,
    Translation,
    new_id,
)
from service.text import TextRejected, check_text
from workers.media.languages import UnknownLanguageError, language_name

MAX_LOGO_BYTES = 2 * 1024 * 1024
LOGO_TYPES = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg")}


class CampaignError(Exception):
    """A rule was broken; ``field`` names the form field when there is one."""

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


def language_label(tag: str, override: str | None = None) -> str:
    """"اردو / Urdu" for display; the tag itself if the language has no known name."""
    try:
        return language_name(tag, override).label
    except UnknownLanguageError:
        return tag


def create_campaign(db: Session, organisation_id: str, data: CampaignIn) -> Campaign:
    campaign = Campaign(id=new_id(), organisation_id=organisation_id, title=data.title,
                        language=data.language)
    db.add(campaign)
    _apply(db, campaign, data)
    db.flush()
    return campaign


def update_campaign(db: Session, campaign: Campaign, data: CampaignIn) -> Campaign:
    """Apply ``data``. Links that expire with the campaign (their expiry is the old deadline)
    follow a moved deadline; links given their own expiry keep it."""
    old_deadline = campaign.deadline
    _apply(db, campaign, data)
    if old_deadline is not None and data.deadline is not None and data.deadline != old_deadline:
        db.execute(
            update(Invite)
            .where(Invite.campaign_id == campaign.id, Invite.expires_at == old_deadline,
                   Invite.revoked_at.is_(None))
            .values(expires_at=data.deadline)
        )
    db.flush()
    return campaign


def _apply(db: Session, campaign: Campaign, data: CampaignIn) -> None:
    campaign.title = data.title
    campaign.language = data.language
    campaign.translation_language = data.translation_language
    campaign.deadline = data.deadline
    campaign.formats = list(data.formats)
    campaign.intro_text = data.intro_text
    campaign.outro_text = data.outro_text
    campaign.brand_background = data.brand_background
    campaign.brand_text = data.brand_text
    campaign.brand_accent = data.brand_accent
    _set_sentences(db, campaign, data.sentences)
    _set_languages(campaign, [(lang.language, lang.language_name) for lang in data.languages])


def _set_sentences(db: Session, campaign: Campaign, texts: list[str]) -> None:
    """Keep sentence rows by position; a changed text sends its translations back to draft."""
    existing = {s.position: s for s in campaign.sentences}
    for position, text in enumerate(texts, start=1):
        sentence = existing.pop(position, None)
        if sentence is None:
            campaign.sentences.append(Sentence(id=new_id(), position=position, text=text))
        elif sentence.text != text:
            sentence.text = text
            for translation in db.query(Translation).filter_by(sentence_id=sentence.id):
                translation.status = "draft"
    for sentence in existing.values():
        campaign.sentences.remove(sentence)


def _set_languages(campaign: Campaign, languages: list[tuple[str, str | None]]) -> None:
    current = {row.language: row for row in campaign.languages}
    wanted = dict(languages)
    for tag, row in list(current.items()):
        if tag not in wanted:
            campaign.languages.remove(row)
    for tag, name in languages:
        found = current.get(tag)
        if found is None:
            campaign.languages.append(CampaignLanguage(id=new_id(), language=tag,
                                                       language_name=name))
        else:
            found.language_name = name


def target_language(campaign: Campaign, tag: str) -> CampaignLanguage:
    """The campaign's target language ``tag`` or a not-found error."""
    for row in campaign.languages:
        if row.language == tag:
            return row
    raise CampaignError(f"{tag} is not a target language of this campaign",
                        code="unknown_language", field="language")


@dataclass(frozen=True)
class TranslationChange:
    sentence_id: str
    text: str
    status: str


def save_translations(
    db: Session, campaign: Campaign, language: str, changes: list[TranslationChange]
) -> int:
    """Store typed-in translations; empty text removes one. Returns the number changed."""
    target_language(campaign, language)
    sentence_ids = {s.id for s in campaign.sentences}
    for change in changes:
        try:
            check_text(change.text, required=False)
        except TextRejected as exc:
            raise CampaignError(f"translation: {exc}", code="invalid_text") from exc
        if change.sentence_id not in sentence_ids:
            raise CampaignError("a translation names a sentence that is not in this campaign",
                                code="unknown_sentence")
        if change.status not in ("draft", "approved"):
            raise CampaignError(f"unknown status {change.status!r}; use draft or approved")
    existing = translations_by_sentence(db, campaign.id, language)
    changed = 0
    for change in changes:
        text = change.text.strip()
        row = existing.get(change.sentence_id)
        if not text:
            if row is not None:
                db.delete(row)
                changed += 1
            continue
        if row is None:
            db.add(Translation(id=new_id(), campaign_id=campaign.id,
                               sentence_id=change.sentence_id, language=language, text=text,
                               status=change.status))
            changed += 1
        elif row.text != text or row.status != change.status:
            row.text, row.status = text, change.status
            changed += 1
    db.flush()
    return changed


def approved_translations(db: Session, campaign: Campaign, language: str) -> list[str] | None:
    """The message in ``language`` if every sentence has an approved translation, else None."""
    rows = translations_by_sentence(db, campaign.id, language)
    texts = []
    for sentence in campaign.sentences:
        row = rows.get(sentence.id)
        if row is None or row.status != "approved":
            return None
        texts.append(row.text)
    return texts


def check_logo(data: bytes) -> tuple[str, str]:
    """Content type and file extension of an uploaded logo, or a clear error.

    Only PNG and JPEG are accepted (no SVG: it can carry scripts), at most 2 MB, and Pillow
    must be able to decode it.
    """
    if not data:
        raise CampaignError("the logo file is empty", field="logo")
    if len(data) > MAX_LOGO_BYTES:
        raise CampaignError("the logo is larger than 2 MB, the limit", field="logo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise CampaignError("the logo is not a PNG or JPEG image", field="logo") from exc
    if kind not in LOGO_TYPES:
        raise CampaignError(f"the logo is a {kind} image; use PNG or JPEG", field="logo")
    return LOGO_TYPES[kind]
