"""Turning the campaign form (one sentence per line, one language per line) into
:class:`CampaignIn`, and validation errors into per-field messages for the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import ValidationError

from service.campaigns.schemas import CampaignIn, LanguageIn
from service.models import Campaign


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def parse_languages(text: str) -> list[dict[str, str | None]]:
    """``ur`` or ``syl = ꠍꠤꠟꠐꠤ / Sylheti`` per line (also accepts commas between tags)."""
    items: list[dict[str, str | None]] = []
    for line in split_lines(text):
        if "=" in line:
            tag, name = line.split("=", 1)
            items.append({"language": tag.strip(), "language_name": name.strip() or None})
        else:
            items.extend({"language": t.strip(), "language_name": None}
                         for t in line.split(",") if t.strip())
    return items


def languages_text(campaign: Campaign) -> str:
    return "\n".join(
        f"{row.language} = {row.language_name}" if row.language_name else row.language
        for row in campaign.languages
    )


def parse_deadline(value: str) -> datetime | None:
    """A date from ``<input type=date>`` means the end of that day (UTC)."""
    value = value.strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a date; use the form YYYY-MM-DD") from exc
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def field_errors(exc: ValidationError) -> dict[str, str]:
    """The first message for each top-level field, without pydantic's prefixes."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = error.get("loc") or ("form",)
        name = str(loc[0])
        message = str(error.get("msg", "is not valid"))
        message = message.removeprefix("Value error, ")
        if error.get("type") == "missing":
            message = "this is required"
        elif error.get("type") == "string_too_short":
            message = "this cannot be empty"
        errors.setdefault(name, message)
    return errors


def campaign_from_form(form: dict[str, Any]) -> tuple[CampaignIn | None, dict[str, str]]:
    """Parse and validate the campaign form: the data, or per-field errors."""
    errors: dict[str, str] = {}
    deadline: datetime | None = None
    try:
        deadline = parse_deadline(str(form.get("deadline", "")))
    except ValueError as exc:
        errors["deadline"] = str(exc)
    raw_languages = parse_languages(str(form.get("languages", "")))
    language_errors = []
    for item in raw_languages:
        try:
            LanguageIn.model_validate(item)
        except ValidationError as exc:
            language_errors.append(field_errors(exc).get("language")
                                   or next(iter(field_errors(exc).values())))
    if language_errors:
        errors["languages"] = "; ".join(language_errors)
    data = {
        "title": form.get("title", ""),
        "language": form.get("language", "") or "en",
        "translation_language": form.get("translation_language") or None,
        "deadline": deadline,
        "sentences": split_lines(str(form.get("sentences", ""))),
        "languages": raw_languages if not language_errors else [],
        "formats": form.get("formats") or [],
        "intro_text": form.get("intro_text") or None,
        "outro_text": form.get("outro_text") or None,
        "brand_background": form.get("brand_background") or "#1d3557",
        "brand_text": form.get("brand_text") or "#ffffff",
        "brand_accent": form.get("brand_accent") or "#e9c46a",
    }
    if not data["formats"]:
        errors["formats"] = "choose at least one format"
    if not data["sentences"]:
        errors["sentences"] = "write the message as at least one sentence, one per line"
    try:
        parsed = CampaignIn.model_validate(data)
    except ValidationError as exc:
        for key, message in field_errors(exc).items():
            errors.setdefault(key, message)
        return None, errors
    return (None if errors else parsed), errors
