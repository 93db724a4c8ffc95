"""Compiles of a campaign and their per-clip progress.

The database holds each job's state: a queue message carries only the compile id, and a
restarted ``chorus serve`` (or, at scale, another worker) finds unfinished compiles here and
runs them again. ``outputs`` lists every object stored for the compile, because an object
store cannot be listed cheaply and downloads must only offer what was written whole.
``heartbeat_at`` is renewed while a worker runs the compile: a compile whose heartbeat is
older than the lease is presumed abandoned (the worker died) and may be picked up again.

The pipeline (see ``workers/stages``): ``compile.run`` fans out one ``clip.prepare`` per
:class:`CompileClip` (status ``running``); the last clip to finish moves the compile to
``joining`` with one conditional UPDATE, so exactly one ``compile.join`` is sent; the join
stores the outputs (``done``). Each stage row keeps its attempts, worker, error code, progress
and times. :class:`ObjectLineage` records which clips every stored object was made from, so an
erasure request can find every segment and output that contains a person's clip.
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

COMPILE_STATUSES = ("queued", "running", "joining", "done", "failed")
COMPILE_CLIP_STATUSES = ("queued", "running", "done", "failed", "skipped")


class Compile(IdMixin, CreatedMixin, Base):
    """One compile of a campaign into the chosen formats."""

    __tablename__ = "compiles"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'joining', 'done', 'failed')", name="status"
        ),
    )

    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    formats: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="queued", index=True)
    """queued | running (clips being prepared) | joining | done | failed"""
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
    join_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    """How many times a worker took the join (bounded; a SIGKILLed join is taken again)."""
    join_worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """``host:pid`` of the worker that ran (or runs) the join."""
    join_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Set when a clip in it lost consent or was erased: its outputs are no longer offered."""
    withdrawn_reason: Mapped[str | None] = mapped_column(String(50), nullable=True)
    """``consent_withdrawn`` | ``erased`` | ``retention``."""


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
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The last error's message (shown to staff), kept while retries run."""
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """``host:pid`` of the worker that prepared (or is preparing) the clip."""
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    prepared: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """``PreparedClip.to_meta()``: the join rebuilds the clip from it without the original."""
    segments: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    """Keys of the clip's stored segments (``segments/<key>.mov``), one per format."""


class ObjectLineage(IdMixin, CreatedMixin, Base):
    """One stored object and one clip it was made from (an object made of n clips: n rows).

    No foreign keys on purpose: lineage must outlive the clip and compile rows, because an
    erasure deletes the rows and then still has to find (and delete) the objects.
    """

    __tablename__ = "object_lineage"
    __table_args__ = (UniqueConstraint("object_key", "clip_id"),)

    object_key: Mapped[str] = mapped_column(String(500), nullable=False, index=True)
    clip_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    compile_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    """``segment`` (one clip, one format) or ``output`` (a compile's file)."""
