"""Compiles of a campaign and their per-clip progress.

The database holds each job's state: a queue message carries only the compile id, and a
restarted ``chorus serve`` (or, at scale, another worker) finds unfinished compiles here and
runs them again. ``outputs`` lists every object stored for the compile, because an object
store cannot be listed cheaply and downloads must only offer what was written whole.
``heartbeat_at`` is renewed while a worker runs the compile: a compile whose heartbeat is
older than the lease is presumed abandoned (the worker died) and may be picked up again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedMixin, IdMixin, UTCDateTime

COMPILE_STATUSES = ("queued", "running", "done", "failed")
COMPILE_CLIP_STATUSES = ("queued", "running", "done", "failed", "skipped")


class Compile(IdMixin, CreatedMixin, Base):
    """One compile of a campaign into the chosen formats."""

    __tablename__ = "compiles"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
    )

    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    formats: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="queued", index=True)
    """queued | running | done | failed"""
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    """0..1, overall."""
    error_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    output_prefix: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    """Object key prefix of every output, ``compiles/<id>/``."""
    outputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    """Stored outputs: ``{"name", "key", "content_type", "size"}``, written once all are stored."""
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    requested_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class CompileClip(IdMixin, Base):
    """One approved, consented clip inside a compile, with its own progress."""

    __tablename__ = "compile_clips"
    __table_args__ = (
        UniqueConstraint("compile_id", "clip_id"),
        CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'skipped')", name="status"
        ),
    )

    compile_id: Mapped[str] = mapped_column(
        ForeignKey("compiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    clip_id: Mapped[str] = mapped_column(
        ForeignKey("clips.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="queued")
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    error_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
