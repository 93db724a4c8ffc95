"""Queries about clips, always scoped to an organisation where a person is asking.

"May be compiled" is decided by ``service.consent.service`` (approved, with a consent that
holds); :func:`compilable_clips` and :func:`has_valid_consent` ask it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clips.text import CampaignText, ClipText, clip_text
from service.consent import service as consent
from service.models import Campaign, Clip, Consent, Sentence, Translation


def compilable_clips(session: Session, campaign_id: str) -> Sequence[Clip]:
    """Approved clips of the campaign with valid consent (the rule: ``service.consent``)."""
    return consent.usable_clips(session, campaign_id)


def has_valid_consent(session: Session, clip: Clip) -> bool:
    """Whether this one clip has a consent that allows compiling it (see ``service.consent``)."""
    return bool(consent.may_use(session, clip, "compile"))


def get_clip(session: Session, organisation_id: str, clip_id: str) -> Clip | None:
    """The clip if it belongs to a campaign of the organisation, else ``None``."""
    stmt = (
        select(Clip)
        .join(Campaign, Campaign.id == Clip.campaign_id)
        .where(Clip.id == clip_id, Campaign.organisation_id == organisation_id)
    )
    return session.scalar(stmt)


def campaign_clips(session: Session, campaign_id: str) -> Sequence[Clip]:
    """Every clip of a campaign, newest first within each language."""
    stmt = (
        select(Clip)
        .where(Clip.campaign_id == campaign_id)
        .order_by(Clip.language, Clip.created_at.desc())
    )
    return session.scalars(stmt).all()


def consents_for(session: Session, clip: Clip) -> Sequence[Consent]:
    """Every consent record that concerns the clip (directly or through its invite)."""
    return consent.consents_of(session, clip)


def campaign_text(session: Session, campaign: Campaign) -> CampaignText:
    """The campaign's script and its approved translations, for :func:`clip_text`."""
    sentences = session.scalars(
        select(Sentence).where(Sentence.campaign_id == campaign.id).order_by(Sentence.position)
    ).all()
    position = {s.id: n for n, s in enumerate(sentences)}
    approved: dict[str, dict[int, str]] = {}
    for t in session.scalars(select(Translation).where(
            Translation.campaign_id == campaign.id, Translation.status == "approved")):
        if t.sentence_id in position and t.text and t.text.strip():
            approved.setdefault(t.language, {})[position[t.sentence_id]] = t.text
    return CampaignText(language=campaign.language,
                        translation_language=campaign.translation_language or campaign.language,
                        script=tuple(s.text for s in sentences), approved=approved)


def manual_cue_times(clip: Clip) -> tuple[tuple[float, float], ...] | None:
    """Staff's caption timing for the clip (seconds of the original), well-formed ones only."""
    out = []
    for cue in clip.caption_cues or []:
        try:
            start, end = float(cue["start"]), float(cue["end"])
        except (KeyError, TypeError, ValueError):
            continue
        if end > start >= 0:
            out.append((start, end))
    return tuple(out) or None


def text_of(clip: Clip, campaign: CampaignText) -> ClipText:
    """What this clip shows (:func:`clip_text` on the clip's own settings)."""
    return clip_text(campaign, clip.language, sentences=clip.sentences,
                     translation=clip.translation, cue_times=manual_cue_times(clip))
