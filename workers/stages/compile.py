"""Stage ``compile.run``: start a compile and fan out one ``clip.prepare`` per clip.

The pipeline (ids only in messages; the database holds every stage's state, the compile
domain in ``service/renders`` holds its rules):

1. ``compile.run(compile_id)`` (this module): claim the queued compile, read its plan (what
   may be compiled: approved AND a non-withdrawn consent, enforced where work starts and
   again at the join), bring the clip rows in line with it, and send one ``clip.prepare`` per
   clip, so the clips are rendered in parallel on every worker.
2. ``clip.prepare(compile_clip_id)`` (``prepare.py``): prepare the clip and render its segment
   in each format through the engine, its segments kept in the object store by content key.
   The worker that ends the last clip moves the compile to ``joining``
   (:func:`service.renders.state.try_join`): exactly one ``compile.join`` is sent.
3. ``compile.join(compile_id)`` (``join.py``): assemble the outputs through the engine and
   store them under ``compiles/<id>/`` (fixed names: a re-run can only ever produce one set).

Every stage claims its row first (a second delivery of a message never runs it twice at
once), renews a heartbeat while it works, and is safe to run again after a crash.
"""

from __future__ import annotations

import logging

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from service import jobs
from service.db import unit_of_work
from service.models import Compile, CompileClip, utcnow
from service.renders import state
from service.renders.outputs import output_prefix
from service.renders.plan import (
    CompilePlan,
    CompileRefused,
    engine_campaign,
    load_plan,
    suffix_of,
)
from service.renders.status import ClipStatus, CompileStatus
from service.settings import Settings
from workers.media.segments import plan_segments, render_segments
from workers.stages.common import ObjectSegments, cache_dir, lease_cutoff, scratch, store_for

log = logging.getLogger(__name__)


def run(compile_id: str, settings: Settings) -> str | None:
    """Start (or re-start) a compile: fan out one ``clip.prepare`` per unfinished clip.

    A queued compile is claimed; a compile already ``running`` (a resumed or duplicate message)
    gets its unfinished clips sent again (each clip's own claim stops double work) and a join
    if every clip has ended meanwhile. Returns the compile's status, ``None`` if there was
    nothing to do.
    """
    with unit_of_work(settings) as session:
        row = session.get(Compile, compile_id)
        if row is None or row.status not in (CompileStatus.QUEUED, CompileStatus.RUNNING):
            return None
        started = state.claim(session, compile_id)
        if started:
            session.refresh(row)
            if row.attempts > state.MAX_ATTEMPTS:
                row.status, row.error_code = CompileStatus.FAILED, "too_many_attempts"
                row.error = f"the compile was started {row.attempts - 1} times and did not finish"
                row.finished_at = utcnow()
                return CompileStatus.FAILED
            if row.started_at is None:
                row.started_at = utcnow()
            row.output_prefix = output_prefix(compile_id)
            row.error_code = row.error = None
        elif row.status != CompileStatus.RUNNING:
            return None
    try:
        with unit_of_work(settings) as session:
            plan = load_plan(session, compile_id, include_unlisted=True)
            state.sync_clip_rows(session, plan)
    except CompileRefused as exc:
        state.fail(settings, compile_id, exc.code, exc.message)
        return CompileStatus.FAILED
    missing = [o.message for o in plan.left_out if o.code == "missing_text"]
    if missing:
        state.fail(settings, compile_id, "missing_text", "; ".join(missing))
        return CompileStatus.FAILED
    with unit_of_work(settings) as session:
        stale = and_(CompileClip.status == ClipStatus.RUNNING,
                     or_(CompileClip.heartbeat_at.is_(None),
                         CompileClip.heartbeat_at < lease_cutoff(settings)))
        session.execute(
            update(CompileClip)
            .where(CompileClip.compile_id == compile_id, stale)
            .values(status=ClipStatus.QUEUED, heartbeat_at=None)
            .execution_options(synchronize_session=False)
        )
        todo = list(session.scalars(
            select(CompileClip.id).where(CompileClip.compile_id == compile_id,
                                         CompileClip.status == ClipStatus.QUEUED)
            .order_by(CompileClip.id)))
        for compile_clip_id in todo:
            jobs.enqueue("clip.prepare", session=session, compile_clip_id=compile_clip_id)
        state.touch_compile(session, compile_id)
    log.info("compile %s: %d clip(s) sent to prepare", compile_id, len(todo))
    if todo:
        render_cards(settings, plan)
    state.join_if_ready(settings, compile_id)
    return CompileStatus.RUNNING


def render_cards(settings: Settings, plan: CompilePlan) -> None:
    """Render the intro/outro segments now, while other workers prepare the clips, so the
    join does not render them after the last clip (``chorus compile`` renders them alongside
    the clips too). Best effort: the join renders whatever is still missing."""
    if not (plan.intro_text or plan.outro_text):
        return
    store = store_for(settings)
    segments = ObjectSegments(store)
    try:
        with scratch(settings, "cards", plan.compile_id) as folder:
            logo = None
            if plan.logo_key:
                logo = folder / f"logo{suffix_of(plan.logo_key)}"
                store.get_file(plan.logo_key, logo)
            campaign = engine_campaign(plan, folder, logo, clips=())
            cards = plan_segments(campaign, {}, plan.formats, cache_dir=cache_dir(settings),
                                  store=segments)
            render_segments(cards, jobs=1, store=segments)
    except Exception:  # the join renders the cards itself; a failure here costs only time
        log.exception("compile %s: the cards could not be rendered ahead", plan.compile_id)


def clip_counts(session: Session, compile_id: str) -> dict[str, int]:
    """How many of the compile's clips are in each state (for logs and tests)."""
    return {str(st): int(n) for st, n in session.execute(
        select(CompileClip.status, func.count()).where(CompileClip.compile_id == compile_id)
        .group_by(CompileClip.status))}
