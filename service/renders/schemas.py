"""Pydantic shapes of the compiles API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from workers.media.style import DEFAULT_FORMAT


class CompileIn(BaseModel):
    formats: list[str] = Field(default_factory=lambda: [DEFAULT_FORMAT], min_length=1)


class CompileClipOut(BaseModel):
    clip_id: str
    language: str
    speaker: str
    status: str
    progress: float
    error_code: str | None


class OutputOut(BaseModel):
    name: str
    size: int
    content_type: str
    url: str


class CompileOut(BaseModel):
    id: str
    campaign_id: str
    formats: list[str]
    status: str
    progress: float
    error_code: str | None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    clips: list[CompileClipOut]
    outputs: list[OutputOut]
