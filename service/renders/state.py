"""How a compile moves on: claims, the exactly-one join, progress, failure, its clip rows.

Every transition is one conditional UPDATE, so two workers racing for the same move cannot
both make it: :func:`claim` starts a queued compile once; :func:`try_join` moves a compile to
``joining`` for exactly one of the workers finishing its last clips. Statuses are
:mod:`service.renders.status`'s enums; the stages call these and write no status themselves.
"""

from __future__ import annotations

from sqlalchemy import case, exists, select, update
from sqlalchemy.orm import Session

from service import jobs
from service.db import unit_of_work
from service.models import Compile, CompileClip, utcnow
from service.renders.plan import CompilePlan
from service.renders.status import UNFINISHED_CLIP, ClipStatus, CompileStatus
from service.settings import Settings

MAX_ATTEMPTS = 5
"""Starts of one compile (a restart of the embedded default starts it again) before it fails."""
CLIPS_SHARE = 0.85
"""Part of a compile's overall progress spent preparing clips; the join does the rest."""


def claim(session: Session, compile_id: str) -> bool:
    """Atomically start a queued compile (one UPDATE; ``attempts`` counts the starts)."""
    result = session.execute(
        update(Compile)
        .where(Compile.id == compile_id, Compile.status == CompileStatus.QUEUED)
        .values(status=CompileStatus.RUNNING, heartbeat_at=utcnow(),
                attempts=Compile.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def sync_clip_rows(session: Session, plan: CompilePlan) -> None:
    """Bring the compile's clip rows in line with its plan (when the compile starts): a row
    for each eligible clip that has none, ``skipped``/``failed`` for the clips left out (a
    clip left out that has no row gets one, so staff see it on the compile and why)."""
    for clip_id in plan.unlisted:
        session.add(CompileClip(compile_id=plan.compile_id, clip_id=clip_id,
                                status=ClipStatus.QUEUED, progress=0.0))
    listed = set(session.scalars(select(CompileClip.clip_id).where(
        CompileClip.compile_id == plan.compile_id)))
    for out in plan.left_out:
        if out.clip_id not in listed:
            session.add(CompileClip(compile_id=plan.compile_id, clip_id=out.clip_id,
                                    status=out.status, error_code=out.code,
                                    error=out.message, progress=0.0))
    session.flush()
    leave_out(session, plan)
    session.flush()


def leave_out(session: Session, plan: CompilePlan) -> None:
    """Mark the plan's left-out clips: ``skipped`` (consent withdrawn, or no channel of the
    compile agreed to) or ``failed`` (no text), unless they already ended so."""
    for out in plan.left_out:
        session.execute(
            update(CompileClip)
            .where(CompileClip.compile_id == plan.compile_id, CompileClip.clip_id == out.clip_id,
                   CompileClip.status != out.status)
            .values(status=out.status, error_code=out.code, error=out.message,
                    heartbeat_at=None)
            .execution_options(synchronize_session=False)
        )


def try_join(session: Session, compile_id: str) -> bool:
    """Move the compile to ``joining`` if no clip is left to prepare; ``True`` for the winner.

    One conditional UPDATE (``status = 'running' AND NOT EXISTS (unfinished clip)``): when the
    last two clips finish at the same moment on two workers, both try, the database lets
    exactly one UPDATE change the row (PostgreSQL re-checks the WHERE on the locked row; SQLite
    serialises writers), and only that worker sends ``compile.join``. Call it in its own
    transaction *after* the clip's own result is committed, so the last finisher sees it.
    """
    unfinished = exists().where(CompileClip.compile_id == compile_id,
                                CompileClip.status.in_(UNFINISHED_CLIP))
    result = session.execute(
        update(Compile)
        .where(Compile.id == compile_id, Compile.status == CompileStatus.RUNNING, ~unfinished)
        .values(status=CompileStatus.JOINING, heartbeat_at=None,
                progress=case((Compile.progress < CLIPS_SHARE, CLIPS_SHARE),
                              else_=Compile.progress))
        .execution_options(synchronize_session=False)
    )
    won = bool(getattr(result, "rowcount", 0) == 1)
    if won:
        jobs.enqueue("compile.join", session=session, compile_id=compile_id)
    return won


def join_if_ready(settings: Settings, compile_id: str) -> bool:
    """:func:`try_join` in a transaction of its own (sends ``compile.join`` after commit)."""
    with unit_of_work(settings) as session:
        return try_join(session, compile_id)


def touch_compile(session: Session, compile_id: str) -> None:
    """Renew the compile's heartbeat and raise its overall progress from its clips' progress.

    Clips that ended (done, failed) count as complete; skipped clips do not count. Progress
    only ever goes up, whichever worker writes last.
    """
    values = [float(p) if st in UNFINISHED_CLIP else 1.0
              for st, p in session.execute(
                  select(CompileClip.status, CompileClip.progress)
                  .where(CompileClip.compile_id == compile_id,
                         CompileClip.status != ClipStatus.SKIPPED))]
    overall = round(CLIPS_SHARE * (sum(values) / len(values)), 4) if values else 0.0
    session.execute(
        update(Compile)
        .where(Compile.id == compile_id, Compile.status == CompileStatus.RUNNING)
        .values(heartbeat_at=utcnow(),
                progress=case((Compile.progress < overall, overall), else_=Compile.progress))
        .execution_options(synchronize_session=False)
    )


def fail(settings: Settings, compile_id: str, code: str, message: str) -> None:
    """Fail the compile for good, with a code and a message staff see."""
    with unit_of_work(settings) as session:
        row = session.get(Compile, compile_id)
        if row is None:
            return
        row.status, row.error_code, row.error = CompileStatus.FAILED, code, message[:4000]
        row.finished_at = utcnow()
        row.heartbeat_at = None
