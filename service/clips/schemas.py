"""Pydantic shapes of the clips API (review, trim, text, caption timing, upload)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from service.text import Line, OptionalLine, Paragraph


class ConsentOut(BaseModel):
    id: str
    method: str
    agreed_at: datetime
    wording_version: str
    wording_language: str
    channels: list[str]
    shows_role_agreed: bool
    note: str
    withdrawn_at: datetime | None


class ClipOut(BaseModel):
    id: str
    campaign_id: str
    language: str
    status: str
    source: str
    speaker_name: str
    speaker_role: str
    original_filename: str
    content_type: str
    size_bytes: int
    duration: float | None
    trim_start: float | None
    trim_end: float | None
    sentences: list[str] | None
    translation: list[str] | None
    caption_cues: list[dict[str, float]] | None
    reject_reason_code: str | None
    reject_note: str | None
    error_code: str | None
    probe: dict[str, Any] | None
    has_consent: bool
    consents: list[ConsentOut] = []
    original_url: str
    created_at: datetime


class ReviewIn(BaseModel):
    action: Literal["approve", "reject"]
    reason_code: str | None = None
    note: Paragraph = Field(default="", max_length=2000)


class TrimIn(BaseModel):
    trim_start: float | None = Field(default=None, ge=0)
    trim_end: float | None = Field(default=None, gt=0)


class TextIn(BaseModel):
    sentences: list[OptionalLine] | None = None
    translation: list[OptionalLine] | None = None


class CueIn(BaseModel):
    start: float = Field(ge=0)
    end: float = Field(gt=0)


class CuesIn(BaseModel):
    cues: list[CueIn] | None = None


class StaffUploadIn(BaseModel):
    """The form beside the files of a staff upload (the same for every file of the batch)."""

    language: str = Field(min_length=2, max_length=35)
    speaker_name: Line = Field(min_length=1, max_length=200)
    speaker_role: OptionalLine = Field(default="", max_length=200)
    leader_id: str | None = None
    consent_method: Literal["signed_form", "email", "other"]
    consent_date: date
    consent_note: Paragraph = Field(default="", max_length=2000)
    shows_role_agreed: bool = False
    channels: list[str] = Field(default_factory=lambda: ["all"])
