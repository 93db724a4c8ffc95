"""Translations as gettext ``.po`` files, so a translator can work in their usual tool.

Export: one entry per sentence, ``msgid`` = the source sentence, ``msgstr`` = the current
translation (drafts are marked ``fuzzy``). Import: the whole file is parsed and checked first
(encoding, syntax, every ``msgid`` a sentence of this campaign, the ``Language`` header if
present); only then are translations stored, so a broken file changes nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po
from sqlalchemy.orm import Session

from service.campaigns.repository import translations_by_sentence
from service.campaigns.service import (
    CampaignError,
    TranslationChange,
    save_translations,
    target_language,
)
from service.models import Campaign
from workers.media.languages import same_language

MAX_PO_BYTES = 1024 * 1024


class PoImportError(CampaignError):
    """The .po file cannot be used; nothing was stored."""

    def __init__(self, message: str):
        super().__init__(message, code="invalid_po", field="po_file")


def _babel_locale(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None


def export_po(db: Session, campaign: Campaign, language: str, now: datetime | None = None) -> bytes:
    """The campaign's message and its ``language`` translations as a UTF-8 .po file."""
    target_language(campaign, language)
    existing = translations_by_sentence(db, campaign.id, language)
    catalog = Catalog(
        locale=_babel_locale(language),
        project=f"Chorus: {campaign.title}",
        version=campaign.id,
        charset="utf-8",
        creation_date=now,
        revision_date=now,
        fuzzy=False,
    )
    catalog.language_team = language
    for sentence in campaign.sentences:
        row = existing.get(sentence.id)
        flags = ("fuzzy",) if row is not None and row.status == "draft" else ()
        catalog.add(
            sentence.text,
            row.text if row is not None else "",
            auto_comments=[f"Sentence {sentence.position} of the message"],
            flags=flags,
        )
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, omit_header=False, include_previous=False)
    text = buffer.getvalue().decode("utf-8")
    # Tools and Babel itself read the Language header; make sure it is our exact tag.
    if "Language:" not in text:
        text = text.replace('"MIME-Version:', f'"Language: {language}\\n"\n"MIME-Version:', 1)
    return text.encode("utf-8")


@dataclass(frozen=True)
class PoImportResult:
    updated: int
    unchanged: int
    empty: int


def import_po(
    db: Session, campaign: Campaign, language: str, data: bytes, *, approve: bool = False
) -> PoImportResult:
    """Store the translations in ``data`` (all or nothing). Imported ones are drafts unless
    ``approve``; entries marked fuzzy always stay drafts; empty ``msgstr`` are left alone."""
    target_language(campaign, language)
    if not data.strip():
        raise PoImportError("The file is empty. Choose the .po file you exported and filled in.")
    if len(data) > MAX_PO_BYTES:
        raise PoImportError("The file is larger than 1 MB; that is not a translation of this "
                            "message.")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoImportError(
            "The file is not UTF-8 text. Save it as UTF-8 in your translation tool "
            f"(byte {exc.start} cannot be read)."
        ) from exc
    try:
        catalog = read_po(io.BytesIO(data), abort_invalid=True, charset="utf-8")
    except (PoFileError, ValueError, UnicodeDecodeError) as exc:
        raise PoImportError(f"The file is not a valid .po file: {exc}.") from exc

    header_language = _header_language(catalog)
    if header_language and not same_language(header_language, language):
        raise PoImportError(
            f"This file is a translation into '{header_language}', not '{language}'. "
            "Import it on that language's page, or export a fresh file for this language."
        )

    by_text: dict[str, list[str]] = {}
    for sentence in campaign.sentences:
        by_text.setdefault(sentence.text, []).append(sentence.id)

    entries = [m for m in catalog if m.id]
    if not entries:
        raise PoImportError("The file has no translations in it.")
    unknown = []
    changes: list[TranslationChange] = []
    empty = 0
    for message in entries:
        if message.pluralizable or not isinstance(message.id, str):
            raise PoImportError("The file has plural entries; this message has none. Export a "
                                "fresh file and translate that.")
        ids = by_text.get(" ".join(message.id.split()))
        if ids is None:
            unknown.append(message.id)
            continue
        text = message.string if isinstance(message.string, str) else ""
        if not text.strip():
            empty += 1
            continue
        status = "approved" if approve and not message.fuzzy else "draft"
        changes.extend(TranslationChange(sid, text.strip(), status) for sid in ids)
    if unknown:
        shown = "; ".join(f"“{u[:60]}”" for u in unknown[:3])
        raise PoImportError(
            f"{len(unknown)} entr{'y does' if len(unknown) == 1 else 'ies do'} not match any "
            f"sentence of this campaign ({shown}). The message may have changed since the "
            "file was exported: export a fresh file and copy the translations into it."
        )
    updated = save_translations(db, campaign, language, changes)
    return PoImportResult(updated=updated, unchanged=len(changes) - updated, empty=empty)


def _header_language(catalog: Catalog) -> str | None:
    for key, value in catalog.mime_headers:
        if key.lower() == "language" and value.strip():
            return value.strip()
    return None
