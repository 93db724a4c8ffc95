"""Shapes of leader and invite data (JSON API and form parsing), with validation."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.campaigns.schemas import check_language_tag
from service.text import Line, OptionalLine


class LeaderIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: Line = Field(min_length=1, max_length=200)
    role: OptionalLine = Field(default="", max_length=200, description="role or organisation")
    community: OptionalLine = Field(default="", max_length=200)
    language: str = Field(min_length=2, max_length=35, description="BCP 47 tag")
    contact: OptionalLine | None = Field(default=None, max_length=320,
                                         description="phone or email")

    @field_validator("language")
    @classmethod
    def _tag(cls, value: str) -> str:
        return check_language_tag(value)

    @field_validator("contact")
    @classmethod
    def _blank(cls, value: str | None) -> str | None:
        return value or None


class LeaderOut(BaseModel):
    id: str
    name: str
    role: str
    community: str
    language: str
    language_label: str
    contact: str | None


class InviteIn(BaseModel):
    leader_id: str
    expires_at: datetime | None = Field(
        default=None, description="default: the campaign deadline (or 30 days if none)"
    )
    language: str | None = Field(default=None, description="page language; default: leader's")

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("language")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        return check_language_tag(value) if value else None


class InviteOut(BaseModel):
    id: str
    campaign_id: str
    leader_id: str
    leader_name: str
    language: str
    expires_at: datetime
    revoked_at: datetime | None
    opened_at: datetime | None
    state: str


class InviteCreatedOut(InviteOut):
    link: str = Field(description="the personal link; shown once, only its hash is stored")
    qr_svg_url: str = Field(description="the link's QR code, SVG, as a data: URL")
