"""Stage ``clip.prepare``: one clip of a compile, analysed and rendered in every format.

Claims the :class:`CompileClip` row (queued, or running with a lapsed lease: its worker died),
fetches the original, runs the engine's ``prepare`` (probe, validate, trim, loudness) and
``render_clip`` (its segment per format) over the object store's segments (each stored whole
under its content key ``segments/<key>.mov``, with its lineage), and keeps
``PreparedClip.to_meta()`` and the segment keys on the row, which is all the join needs. The
worker that ends the last clip moves the compile on to its join
(:func:`service.renders.state.try_join`).

Failure is bounded: every claim counts an attempt (a SIGKILLed worker's too). A failed attempt
puts the row back to ``queued`` with its error and raises, so Dramatiq retries with backoff;
the last allowed attempt marks the clip ``failed`` with the error staff see, and the compile
goes on without it. Idempotent: segments already stored are not uploaded again, the engine's
cache makes a repeated analysis or render cheap, and a finished row is left alone.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select, update

from service.consent import service as consent
from service.db import unit_of_work
from service.models import Compile, CompileClip, utcnow
from service.renders import state
from service.renders.outputs import segment_key
from service.renders.plan import engine_campaign, load_plan
from service.renders.status import ClipStatus, CompileStatus
from service.settings import Settings
from workers.media import compile as media_compile
from workers.media.errors import MediaError
from workers.stages.common import (
    Busy,
    FetchOnly,
    Heartbeat,
    ObjectSegments,
    cache_dir,
    lease_cutoff,
    record_lineage,
    scratch,
    seconds_until_lapse,
    store_for,
    worker_id,
)
from workers.stages.probe import policy_for

log = logging.getLogger(__name__)

PREPARE_SHARE, RENDER_SHARE = 0.2, 0.7
"""A clip's progress: analysis, rendering; storing its segments is the rest."""


def max_attempts(settings: Settings) -> int:
    return settings.stage_max_retries + 1


@dataclass
class ClipProgress:
    """The clip's progress in memory (engine threads write, the heartbeat reads)."""

    formats: int
    value: float = 0.0
    renders: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, value: float) -> None:
        with self.lock:
            self.value = max(self.value, min(1.0, value))

    def on_event(self, event: dict[str, Any]) -> None:
        """``render_clip``'s progress events: one ``fraction`` per ``format`` rendered."""
        fmt = event.get("format")
        if event.get("stage") != "render" or not fmt:
            return
        with self.lock:
            self.renders[str(fmt)] = float(event.get("fraction") or 0.0)
            done = sum(self.renders.values()) / max(self.formats, 1)
            self.value = max(self.value, PREPARE_SHARE + RENDER_SHARE * min(1.0, done))


def claim(settings: Settings, compile_clip_id: str) -> CompileClip | Busy | None:
    """Take the clip row for this worker; a snapshot of the row, :class:`Busy`, or ``None``.

    Only while its compile is ``running`` (a failed or finished compile needs no more clips).
    """
    me = worker_id()
    now = utcnow()
    compile_running = (
        select(Compile.id)
        .where(Compile.id == CompileClip.compile_id, Compile.status == CompileStatus.RUNNING)
        .exists()
    )
    with unit_of_work(settings) as session:
        result = session.execute(
            update(CompileClip)
            .where(
                CompileClip.id == compile_clip_id,
                compile_running,
                or_(CompileClip.status == ClipStatus.QUEUED,
                    and_(CompileClip.status == ClipStatus.RUNNING,
                         or_(CompileClip.heartbeat_at.is_(None),
                             CompileClip.heartbeat_at < lease_cutoff(settings)))),
            )
            .values(status=ClipStatus.RUNNING, attempts=CompileClip.attempts + 1, worker_id=me,
                    heartbeat_at=now, started_at=now, finished_at=None)
            .execution_options(synchronize_session=False)
        )
        row = session.get(CompileClip, compile_clip_id)
        if row is None:
            return None
        session.refresh(row)
        if getattr(result, "rowcount", 0) != 1:
            if row.status == ClipStatus.RUNNING:
                return Busy(seconds_until_lapse(settings, row.heartbeat_at) + 1.0)
            return None
        session.expunge(row)
        return row


def run(compile_clip_id: str, settings: Settings) -> str | Busy | None:
    """Prepare one clip of a compile; its final status, :class:`Busy`, or ``None``.

    Raises (after recording the error and giving the row back) when an attempt failed and
    retries remain, so the broker retries it with backoff.
    """
    claimed = claim(settings, compile_clip_id)
    if not isinstance(claimed, CompileClip):
        return claimed
    row = claimed
    if row.attempts > max_attempts(settings):
        _end(settings, row, ClipStatus.FAILED, code=row.error_code or "too_many_attempts",
             error=row.error or f"the clip was tried {row.attempts - 1} times and never "
                                "finished (its worker stopped each time)")
        return ClipStatus.FAILED
    try:
        return _prepare(settings, row)
    except Exception as exc:
        code = exc.code if isinstance(exc, MediaError) else "stage_error"
        message = str(exc) or type(exc).__name__
        if row.attempts >= max_attempts(settings):
            log.warning("clip %s of compile %s failed for good after %d attempts: %s",
                        row.clip_id, row.compile_id, row.attempts, message)
            _end(settings, row, ClipStatus.FAILED, code=code, error=message)
            return ClipStatus.FAILED
        log.warning("clip %s of compile %s failed (attempt %d of %d), will retry: %s",
                    row.clip_id, row.compile_id, row.attempts, max_attempts(settings), message)
        _release(settings, row, code, message)
        raise
    except BaseException:  # a time limit or shutdown: give the row back, let the broker decide
        _release(settings, row, "time_limit", "the stage was stopped before it finished")
        raise


def _prepare(settings: Settings, row: CompileClip) -> str | None:
    """Load the clip's plan, fetch its original, prepare and render it, keep the result."""
    with unit_of_work(settings) as session:
        plan = load_plan(session, row.compile_id, clip_ids=[row.clip_id])
        state.leave_out(session, plan)
    clip = plan.clip(row.clip_id)
    if clip is None:  # consent withdrawn (row now skipped) or no text (row failed)
        state.join_if_ready(settings, row.compile_id)
        return None
    progress = ClipProgress(formats=len(plan.formats))
    me = row.worker_id

    def beat() -> None:
        with unit_of_work(settings) as session:
            session.execute(
                update(CompileClip)
                .where(CompileClip.id == row.id, CompileClip.status == ClipStatus.RUNNING,
                       CompileClip.worker_id == me)
                .values(heartbeat_at=utcnow(), progress=round(progress.value, 4))
                .execution_options(synchronize_session=False)
            )
            state.touch_compile(session, row.compile_id)

    store = store_for(settings)
    with scratch(settings, "clips", row.id) as folder, \
            Heartbeat(f"clip-{row.id[:8]}", beat):
        campaign = engine_campaign(plan, folder, clips=(clip,))
        spec = campaign.clips[0]
        store.get_file(clip.original_key, spec.file)
        progress.set(0.05)
        prepared = media_compile.prepare(campaign, spec, cache_dir=cache_dir(settings),
                                         policy=policy_for(settings))
        progress.set(PREPARE_SHARE)
        segments = ObjectSegments(store)
        rendered = media_compile.render_clip(  # read-only: nothing is stored before the check
            campaign, prepared, plan.formats, cache_dir=cache_dir(settings),
            progress=progress.on_event, store=FetchOnly(segments))
        progress.set(PREPARE_SHARE + RENDER_SHARE)
        with unit_of_work(settings) as session:  # consent withdrawn while rendering: drop it
            if consent.lost_consent(session, [row.clip_id]):
                return _end(settings, row, ClipStatus.SKIPPED, code="no_consent",
                            error="consent was withdrawn while the clip was being prepared")
        for n, segment in enumerate(rendered, start=1):
            segments.put(segment.key, segment.path)
            progress.set(PREPARE_SHARE + RENDER_SHARE + (1 - PREPARE_SHARE - RENDER_SHARE)
                         * n / len(rendered))
        with unit_of_work(settings) as session:
            for segment in rendered:
                record_lineage(session, segment_key(segment.key), [row.clip_id],
                               kind="segment", compile_id=row.compile_id)
    return _end(settings, row, ClipStatus.DONE, prepared=prepared.to_meta(),
                segments=[s.key for s in rendered])


def _end(settings: Settings, row: CompileClip, status: str, *, code: str | None = None,
         error: str | None = None, prepared: dict[str, Any] | None = None,
         segments: list[str] | None = None) -> str | None:
    """Record the clip's end (only if this worker still holds it), then try the join."""
    with unit_of_work(settings) as session:
        values: dict[str, Any] = {
            "status": status, "finished_at": utcnow(), "heartbeat_at": None,
            "error_code": code, "error": error[:4000] if error else None,
        }
        if status == ClipStatus.DONE:
            values.update(progress=1.0, prepared=prepared, segments=segments)
        result = session.execute(
            update(CompileClip)
            .where(CompileClip.id == row.id, CompileClip.status == ClipStatus.RUNNING,
                   CompileClip.worker_id == row.worker_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            log.warning("clip row %s was taken over by another worker; its result stands",
                        row.id)
            return None
        state.touch_compile(session, row.compile_id)
    state.join_if_ready(settings, row.compile_id)
    return status


def _release(settings: Settings, row: CompileClip, code: str, message: str) -> None:
    """Give the row back after a failed attempt, keeping the error for staff to see."""
    with unit_of_work(settings) as session:
        session.execute(
            update(CompileClip)
            .where(CompileClip.id == row.id, CompileClip.status == ClipStatus.RUNNING,
                   CompileClip.worker_id == row.worker_id)
            .values(status=ClipStatus.QUEUED, heartbeat_at=None, error_code=code,
                    error=message[:4000])
            .execution_options(synchronize_session=False)
        )
