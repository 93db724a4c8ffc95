"""Stage ``compile.join``: every prepared clip's segments → the compile's outputs, stored.

Runs once per compile: only the worker whose UPDATE moved the compile to ``joining`` sends it
(:func:`workers.stages.compile.try_join`), and the join claims the row like every stage (a
duplicate delivery finds it held, a dead joiner's lease lapses and another worker takes over).

Steps: load the plan (checking consent again: a withdrawal during rendering still keeps the
clip out), rebuild each done clip from its stored ``PreparedClip`` data, plan the segments
over the object store's segments (fetched into the local cache; the plan then says what is
still to render: the intro and outro cards, or a clip whose segment is missing, whose
original is then fetched and prepared here), ``assemble``, and store every output under
``compiles/<id>/<name>`` with its lineage (the clips it was made from). Clips that failed are
listed in the report and the compile's error; the video is made of the others.

Consent decides which outputs a clip is in: a clip goes only into outputs made for channels
its person agreed to (:mod:`service.consent`), so the outputs are assembled per group of
clips allowed in them (:func:`consent_groups`; usually one group, all clips), the report says
who was left out of what, and a withdrawal during the join stores nothing (the retry joins
again without the clip).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update

from service.consent import service as consent
from service.db import unit_of_work
from service.models import Compile, CompileClip, utcnow
from service.renders import state
from service.renders.outputs import content_type, output_key
from service.renders.plan import (
    ClipPlan,
    CompilePlan,
    CompileRefused,
    engine_campaign,
    load_plan,
    suffix_of,
)
from service.renders.status import ClipStatus, CompileStatus
from service.settings import Settings
from workers.media.assemble import assemble
from workers.media.compile import prepare
from workers.media.errors import MediaError
from workers.media.outputs import REPORT, parse_cut
from workers.media.prepare import ClipProblem, PreparedClip, from_meta
from workers.media.segments import plan_segments
from workers.stages.common import (
    Busy,
    Heartbeat,
    ObjectSegments,
    cache_dir,
    lease_cutoff,
    record_lineage,
    seconds_until_lapse,
    store_for,
    work_root,
    worker_id,
)
from workers.stages.probe import policy_for

log = logging.getLogger(__name__)

STORE_SHARE = 0.1
"""Part of the join's progress spent storing outputs."""


def max_attempts(settings: Settings) -> int:
    return settings.stage_max_retries + 1


def claim(settings: Settings, compile_id: str) -> tuple[int, str] | Busy | None:
    """Take the join; ``(join_attempts, worker)``, :class:`Busy`, or ``None``."""
    me = worker_id()
    now = utcnow()
    with unit_of_work(settings) as session:
        result = session.execute(
            update(Compile)
            .where(Compile.id == compile_id, Compile.status == CompileStatus.JOINING,
                   or_(Compile.heartbeat_at.is_(None),
                       Compile.heartbeat_at < lease_cutoff(settings)))
            .values(heartbeat_at=now, join_worker=me, join_started_at=now,
                    join_attempts=Compile.join_attempts + 1)
            .execution_options(synchronize_session=False)
        )
        row = session.get(Compile, compile_id)
        if row is None:
            return None
        session.refresh(row)
        if getattr(result, "rowcount", 0) != 1:
            if row.status == CompileStatus.JOINING:
                return Busy(seconds_until_lapse(settings, row.heartbeat_at) + 1.0)
            return None
        return row.join_attempts, me


def run(compile_id: str, settings: Settings) -> str | Busy | None:
    """Join one compile; its final status, :class:`Busy`, or ``None`` (nothing to do)."""
    claimed = claim(settings, compile_id)
    if not isinstance(claimed, tuple):
        return claimed
    attempts, me = claimed
    if attempts > max_attempts(settings):
        state.fail(settings, compile_id, "too_many_attempts",
                   f"the join was tried {attempts - 1} times and never finished")
        return CompileStatus.FAILED
    folder = work_root(settings) / "compiles" / compile_id
    try:
        status = _join(settings, compile_id, me, folder)
    except CompileRefused as exc:
        state.fail(settings, compile_id, exc.code, exc.message)
        status = CompileStatus.FAILED
    except Exception as exc:
        code = exc.code if isinstance(exc, MediaError) else "stage_error"
        if attempts >= max_attempts(settings):
            state.fail(settings, compile_id, code, str(exc) or type(exc).__name__)
            shutil.rmtree(folder, ignore_errors=True)
            return CompileStatus.FAILED
        _release(settings, compile_id, me)
        raise
    except BaseException:
        _release(settings, compile_id, me)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return status


def _release(settings: Settings, compile_id: str, me: str) -> None:
    """Give the join back at once (a retry, or a restart, may take it without waiting)."""
    with unit_of_work(settings) as session:
        session.execute(
            update(Compile)
            .where(Compile.id == compile_id, Compile.status == CompileStatus.JOINING,
                   Compile.join_worker == me)
            .values(heartbeat_at=None)
            .execution_options(synchronize_session=False)
        )


def _join(settings: Settings, compile_id: str, me: str, folder: Path) -> str:
    with unit_of_work(settings) as session:
        plan = load_plan(session, compile_id)
        state.leave_out(session, plan)
        rows = {cc.clip_id: (cc.status, cc.prepared, cc.error_code, cc.error)
                for cc in session.scalars(
                    select(CompileClip).where(CompileClip.compile_id == compile_id))}
    good = tuple(c for c in plan.clips
                 if rows.get(c.clip_id, ("",))[0] == ClipStatus.DONE and rows[c.clip_id][1])
    failed = [c for c in plan.clips if rows.get(c.clip_id, ("",))[0] == ClipStatus.FAILED]
    if not good:
        first = rows[failed[0].clip_id] if failed else None
        raise CompileRefused(
            "no clip could be prepared" + (f": {first[3]}" if first and first[3] else ""),
            code=(first[2] if first and first[2] else "no_clips"))
    store = store_for(settings)
    problems = [ClipProblem(c.index, c.original_filename, f"{c.language}, {c.speaker}",
                            rows[c.clip_id][2] or "failed", rows[c.clip_id][3] or "failed")
                for c in failed]
    join_progress = {"value": 0.0}

    def on_event(event: dict[str, Any]) -> None:
        join_progress["value"] = max(join_progress["value"], float(event.get("overall") or 0))

    def beat() -> None:
        value = state.CLIPS_SHARE + (1 - state.CLIPS_SHARE) * (1 - STORE_SHARE) \
            * join_progress["value"]
        with unit_of_work(settings) as session:
            session.execute(
                update(Compile)
                .where(Compile.id == compile_id, Compile.status == CompileStatus.JOINING,
                       Compile.join_worker == me)
                .values(heartbeat_at=utcnow(), progress=round(min(value, 0.999), 4))
                .execution_options(synchronize_session=False)
            )

    outdir = folder / "out"
    groups = consent_groups(plan.formats, good)
    with Heartbeat(f"join-{compile_id[:8]}", beat):
        made_of: dict[str, list[str]] = {}
        for n, group in enumerate(groups):
            gdir = outdir if len(groups) == 1 else folder / f"group-{n}"
            result = _assemble(settings, plan, group.clips, rows, folder, gdir, problems,
                               on_event)
            for name in dict.fromkeys(result.outputs):
                if group.takes(name):
                    if gdir != outdir:
                        (outdir / name).parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(gdir / name, outdir / name)
                    made_of[name] = _sources(name, group.clips)
        skipped = {cid: r[2] for cid, r in rows.items() if r[0] == ClipStatus.SKIPPED}
        skipped.update({o.clip_id: o.code for o in plan.left_out
                        if o.status == ClipStatus.SKIPPED})
        if skipped or len(groups) > 1 or any(len(g.clips) < len(good) for g in groups):
            _note_left_out(outdir / REPORT, plan.formats, good, skipped)
        outputs = list(made_of)
        with unit_of_work(settings) as session:
            lost = consent.lost_consent(session, [c.clip_id for c in good])
        if lost:  # withdrawn during the join: the retry joins again without them
            raise ConsentChanged(f"consent of {len(lost)} clip(s) was withdrawn during the "
                                 "join; joining again without them")
        for name in outputs:
            key = output_key(compile_id, name)
            path = outdir / name
            if not (store.exists(key) and store.size(key) == path.stat().st_size):
                store.put_file(key, path, content_type(name))
        with unit_of_work(settings) as session:
            for name in outputs:
                record_lineage(session, output_key(compile_id, name), made_of[name],
                               kind="output", compile_id=compile_id)
    return _finish(settings, compile_id, me, outdir, outputs, plan, failed, rows)


def _assemble(settings: Settings, plan: CompilePlan, good: tuple[ClipPlan, ...],
              rows: dict[str, tuple[Any, ...]], folder: Path, outdir: Path,
              problems: list[ClipProblem], on_event: Any) -> Any:
    """Assemble the outputs of ``good`` (a consent group) into ``outdir``."""
    inputs = folder / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    store = store_for(settings)
    logo = None
    if plan.logo_key:
        logo = inputs / f"logo{suffix_of(plan.logo_key)}"
        if not logo.exists():
            store.get_file(plan.logo_key, logo)
    campaign = engine_campaign(plan, inputs, logo, clips=good)
    prepared: dict[int, PreparedClip] = {
        spec.index: from_meta(spec, rows[clip.clip_id][1] or {})
        for spec, clip in zip(campaign.clips, good, strict=True)}
    cache = cache_dir(settings)
    segments = ObjectSegments(store)
    segment_plan = plan_segments(campaign, prepared, plan.formats, cache_dir=cache,
                                 store=segments)
    redo = segment_plan.missing_clips()
    by_index = {c.index: c for c in good}
    for index in redo:  # a clip's segment in no store: prepare the clip here, render it below
        spec = next(s for s in campaign.clips if s.index == index)
        if not spec.file.exists():
            store.get_file(by_index[index].original_key, spec.file)
        prepared[index] = prepare(campaign, spec, cache_dir=cache, policy=policy_for(settings))
    if redo:
        segment_plan = plan_segments(campaign, prepared, plan.formats, cache_dir=cache,
                                     store=segments)
    return assemble(campaign, prepared, outdir, formats=plan.formats, cache_dir=cache,
                    jobs=max(1, settings.worker_threads), problems=problems,
                    progress=on_event, store=segments, plan=segment_plan)


class ConsentChanged(MediaError):
    """A person withdrew while the join ran: nothing is stored, the join runs again."""

    code = "consent_changed"


def _sources(name: str, clips: tuple[ClipPlan, ...]) -> list[str]:
    """The clips an output is made from: a cut only has its language's clips."""
    cut = parse_cut(name)
    if cut is not None:
        return [c.clip_id for c in clips if c.language == cut[0]]
    return [c.clip_id for c in clips]


class ConsentGroup:
    """Clips that may share some outputs, and which of the compile's outputs those are."""

    def __init__(self, clips: tuple[ClipPlan, ...], formats: set[str], cuts: bool,
                 companions: bool) -> None:
        self.clips, self.formats, self.cuts, self.companions = clips, formats, cuts, companions

    def takes(self, name: str) -> bool:
        """Whether output ``name`` of this group's assembly is the compile's one."""
        kind = consent.output_kind(name)
        if kind == "cut":
            return self.cuts
        if kind is None:
            return self.companions  # subtitles and the report go with the first video
        return kind[len("video-"):] in self.formats


def consent_groups(formats: tuple[str, ...], good: tuple[ClipPlan, ...]) -> list[ConsentGroup]:
    """Split the compile's outputs by the clips allowed in them (usually one group: all).

    A clip goes only into outputs made for channels its person agreed to
    (``service.consent``); outputs allowed the same clips are assembled together.
    """
    def allowed(needed: tuple[str, ...]) -> tuple[ClipPlan, ...]:
        return tuple(c for c in good if consent.covers(c.channels, needed))

    sets: dict[tuple[str, ...], ConsentGroup] = {}

    def group_of(clips: tuple[ClipPlan, ...]) -> ConsentGroup:
        return sets.setdefault(tuple(c.clip_id for c in clips),
                               ConsentGroup(clips, set(), False, False))

    for fmt in formats:
        clips = allowed(consent.format_channels(fmt))
        if clips:
            group_of(clips).formats.add(fmt)
    cut_clips = allowed(consent.OUTPUT_CHANNELS["cut"])
    if cut_clips:
        group_of(cut_clips).cuts = True
    groups = list(sets.values())
    if groups:  # subtitles and the report follow the first video (else the cuts)
        groups[0].companions = True
    return groups


def _note_left_out(report: Path, formats: tuple[str, ...], good: tuple[ClipPlan, ...],
                   skipped: dict[str, Any]) -> None:
    """Say in ``report.json`` which clip was left out of which outputs (or all), and why."""
    import json

    data = json.loads(report.read_text("utf-8"))
    left = consent.left_out(formats, {c.clip_id: c.channels for c in good})
    data["consent"] = {
        "output_channels": {k: list(v) for k, v in consent.OUTPUT_CHANNELS.items()},
        "left_out": [
            {"clip_id": c.clip_id, "language": c.language, "outputs": left[c.clip_id],
             "channels_agreed": list(c.channels), "reason": "channel_not_agreed"}
            for c in good if c.clip_id in left
        ] + [
            {"clip_id": clip_id, "outputs": "all", "reason": code or "no_consent"}
            for clip_id, code in sorted(skipped.items())
        ],
    }
    report.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")


def _finish(settings: Settings, compile_id: str, me: str, outdir: Path, outputs: list[str],
            plan: CompilePlan, failed: list[ClipPlan],
            rows: dict[str, tuple[Any, ...]]) -> str:
    records = [
        {"name": name, "key": output_key(compile_id, name),
         "content_type": content_type(name), "size": (outdir / name).stat().st_size}
        for name in outputs
    ]
    with unit_of_work(settings) as session:
        row = session.get(Compile, compile_id)
        if row is None or row.status != CompileStatus.JOINING or row.join_worker != me:
            return row.status if row is not None else CompileStatus.FAILED
        row.outputs = records
        row.status, row.progress = CompileStatus.DONE, 1.0
        row.finished_at = utcnow()
        row.heartbeat_at = None
        if failed:
            row.error_code = "clips_failed"
            row.error = (f"{len(failed)} of {len(plan.clips)} clip(s) could not be compiled "
                         "and were left out: " + "; ".join(
                             f"{c.original_filename or c.clip_id} ({c.language}): "
                             f"{rows[c.clip_id][3] or rows[c.clip_id][2]}" for c in failed))[:4000]
        else:
            row.error_code = row.error = None
    return CompileStatus.DONE
