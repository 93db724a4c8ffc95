"""Shapes of campaign data going in and out (JSON API and form parsing), with validation.

Validation messages are written for a person filling in the form: they name the field and say
what is wrong and what is expected.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from service.text import Line, OptionalLine, TextRejected, check_text, problem
from workers.media.languages import UnknownLanguageError, is_valid_tag, language_name
from workers.media.style import DEFAULT_FORMAT
from workers.media.style import FORMATS as OUTPUT_FORMATS

FORMATS = tuple(OUTPUT_FORMATS)


def _known_format(value: str) -> str:
    if value not in OUTPUT_FORMATS:
        raise ValueError(f"unknown format '{value}'; choose {', '.join(OUTPUT_FORMATS)}")
    return value


Format = Annotated[str, AfterValidator(_known_format),
                   Field(json_schema_extra={"enum": list(OUTPUT_FORMATS)})]
HEX_COLOUR = re.compile(r"\A#[0-9a-fA-F]{6}\Z")
MAX_SENTENCES = 40
MAX_SENTENCE_CHARS = 300

Colour = Annotated[str, Field(description="A colour as #RRGGBB, e.g. #1d3557")]


def check_language_tag(tag: str, override: str | None = None) -> str:
    """``tag`` cleaned, or ValueError with a clear message if it is not a usable language."""
    tag = tag.strip()
    if not is_valid_tag(tag):
        raise ValueError(
            f"'{tag}' is not a language code; use a BCP 47 tag such as ur, pa-Guru, so or en-GB"
        )
    try:
        language_name(tag, override)
    except UnknownLanguageError as exc:
        raise ValueError(
            f"'{tag}' is not a language Chorus knows by name; give its name as well, "
            "e.g. \"syl = ꠍꠤꠟꠐꠤ / Sylheti\""
        ) from exc
    return tag


class LanguageIn(BaseModel):
    """A target language: BCP 47 tag, and optionally its name ("native / English")."""

    language: str = Field(min_length=2, max_length=35, examples=["ur"])
    language_name: OptionalLine | None = Field(default=None, max_length=100,
                                               examples=["اردو / Urdu"])

    @model_validator(mode="after")
    def _known(self) -> LanguageIn:
        self.language_name = (self.language_name or "").strip() or None
        self.language = check_language_tag(self.language, self.language_name)
        return self


class CampaignIn(BaseModel):
    """Everything staff set on a campaign (create or replace)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: Line = Field(min_length=1, max_length=200)
    language: str = Field(default="en", description="BCP 47 tag of the source message")
    translation_language: str | None = Field(
        default=None, description="language of the second caption line (default: language)"
    )
    deadline: datetime | None = Field(default=None, description="UTC; naive values are UTC")
    sentences: list[str] = Field(
        min_length=1, max_length=MAX_SENTENCES, description="the message, one short sentence each"
    )
    languages: list[LanguageIn] = Field(default_factory=list, max_length=60)
    formats: list[Format] = Field(default_factory=lambda: [DEFAULT_FORMAT], min_length=1)
    intro_text: OptionalLine | None = Field(default=None, max_length=500)
    outro_text: OptionalLine | None = Field(default=None, max_length=500)
    brand_background: Colour = "#1d3557"
    brand_text: Colour = "#ffffff"
    brand_accent: Colour = "#e9c46a"

    @field_validator("language", "translation_language")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return check_language_tag(value)

    @field_validator("sentences")
    @classmethod
    def _sentences(cls, value: list[str]) -> list[str]:
        for number, sentence in enumerate(value, start=1):  # before spaces are tidied away
            found = problem(sentence)
            if found is not None and found.code != "text.invisible":
                raise ValueError(f"sentence {number}: {found}")
        cleaned = [" ".join(s.split()) for s in value]
        cleaned = [s for s in cleaned if s]
        if not cleaned:
            raise ValueError("write the message as at least one sentence")
        for number, sentence in enumerate(cleaned, start=1):
            try:
                check_text(sentence)
            except TextRejected as exc:
                raise ValueError(f"sentence {number}: {exc}") from exc
            if len(sentence) > MAX_SENTENCE_CHARS:
                raise ValueError(
                    f"sentence {number} is {len(sentence)} characters long; keep each under "
                    f"{MAX_SENTENCE_CHARS} (split it: each sentence becomes one caption)"
                )
        return cleaned

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, value: list[LanguageIn]) -> list[LanguageIn]:
        seen: set[str] = set()
        for item in value:
            key = item.language.lower()
            if key in seen:
                raise ValueError(f"the language {item.language} is listed twice")
            seen.add(key)
        return value

    @field_validator("formats")
    @classmethod
    def _unique_formats(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("brand_background", "brand_text", "brand_accent")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not HEX_COLOUR.match(value):
            raise ValueError(f"'{value}' is not a colour; use #RRGGBB, e.g. #1d3557")
        return value.lower()

    @field_validator("deadline")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @field_validator("intro_text", "outro_text")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class LanguageOut(BaseModel):
    language: str
    language_name: str | None
    label: str


class SentenceOut(BaseModel):
    id: str
    position: int
    text: str


class CampaignOut(BaseModel):
    id: str
    title: str
    language: str
    translation_language: str | None
    deadline: datetime | None
    sentences: list[SentenceOut]
    languages: list[LanguageOut]
    formats: list[str]
    intro_text: str | None
    outro_text: str | None
    logo_url: str | None
    brand_background: str
    brand_text: str
    brand_accent: str
    status: str
    created_at: datetime


class TranslationItem(BaseModel):
    sentence_id: str
    text: OptionalLine = Field(max_length=1000)
    status: Literal["draft", "approved"] = "draft"


class TranslationsIn(BaseModel):
    translations: list[TranslationItem]


class TranslationOut(BaseModel):
    sentence_id: str
    position: int
    source: str
    text: str
    status: Literal["draft", "approved", "missing"]


class TranslationsOut(BaseModel):
    campaign_id: str
    language: str
    label: str
    translations: list[TranslationOut]


class PoImportOut(BaseModel):
    language: str
    updated: int
    unchanged: int
    empty: int
