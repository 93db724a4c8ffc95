"""A clip: one leader's recording (or a staff upload) for a campaign, in one language.

The original object (``original_key``) is never modified; trims, text and caption timing are
stored here and applied when the segment is rendered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, CreatedMixin, IdMixin, UTCDateTime

CLIP_STATUSES = ("received", "probing", "ready", "approved", "rejected", "failed")
CLIP_SOURCES = ("recorded", "staff_upload")


class Clip(IdMixin, CreatedMixin, Base):
    __tablename__ = "clips"
    __table_args__ = (
        CheckConstraint(
            "status IN ('received', 'probing', 'ready', 'approved', 'rejected', 'failed')",
            name="status",
        ),
        CheckConstraint("source IN ('recorded', 'staff_upload')", name="source"),
        UniqueConstraint("upload_id"),
    )

    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    leader_id: Mapped[str | None] = mapped_column(
        ForeignKey("leaders.id", ondelete="SET NULL"), nullable=True, index=True
    )
    invite_id: Mapped[str | None] = mapped_column(
        ForeignKey("invites.id", ondelete="SET NULL"), nullable=True, index=True
    )
    language: Mapped[str] = mapped_column(String(35), nullable=False)
    original_key: Mapped[str] = mapped_column(String(500), nullable=False)
    original_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    original_filename: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    content_type: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="received")
    reject_reason_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    reject_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    trim_start: Mapped[float | None] = mapped_column(Float, nullable=True)
    trim_end: Mapped[float | None] = mapped_column(Float, nullable=True)
    sentences: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    translation: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    caption_cues: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    speaker_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    speaker_role: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    source: Mapped[str] = mapped_column(String(20), nullable=False, default="recorded")
    probe: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    upload_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    """The tus upload this clip was made from: unique, so one upload can never make two."""
    probe_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When a worker took this clip's probe (two probes of one clip never run at once)."""

    leader = relationship("Leader")
    campaign = relationship("Campaign")
