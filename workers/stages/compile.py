"""Stage ``compile.run``, and what every pipeline stage shares about a compile.

The pipeline (ids only in messages; the database holds every stage's state):

1. ``compile.run(compile_id)`` (this module): claim the queued compile, check what may be
   compiled (approved AND a non-withdrawn consent: the consent rule is enforced where work
   starts, and again at the join), write one :class:`CompileClip` row per clip, and send one
   ``clip.prepare`` per clip, so the clips are rendered in parallel on every worker.
2. ``clip.prepare(compile_clip_id)`` (``prepare.py``): prepare the clip and render its segment
   for each format, store each segment under its content key, keep the prepared clip's data
   on the row. The worker that finishes the last clip moves the compile to ``joining`` with
   one conditional UPDATE (:func:`try_join`): exactly one ``compile.join`` is sent.
3. ``compile.join(compile_id)`` (``join.py``): fetch the segments, assemble, store every output
   under ``compiles/<id>/`` (fixed names: a re-run can only ever produce one set).

Every stage claims its row first (a second delivery of a message never runs it twice at
once), renews a heartbeat while it works, and is safe to run again after a crash.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.orm import Session

from service import jobs
from service.consent import service as consent
from service.db import unit_of_work
from service.models import (
    Campaign as CampaignRow,
)
from service.models import (
    CampaignLanguage,
    Clip,
    Compile,
    CompileClip,
    Leader,
    Sentence,
    Translation,
    utcnow,
)
from service.settings import Settings
from workers.media import captions
from workers.media.campaign import Campaign, Card, ClipSpec
from workers.media.errors import MediaError
from workers.media.languages import base_language
from workers.media.style import Brand
from workers.stages.common import lease_cutoff

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
"""Starts of one compile (a restart of the embedded default starts it again) before it fails."""
CARD_SECONDS = 3.0
CLIPS_SHARE = 0.85
"""Part of a compile's overall progress spent preparing clips; the join does the rest."""
UNFINISHED = ("queued", "running")

CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt",
    ".json": "application/json",
}


class CompileRefused(MediaError):
    """The compile cannot start: no clips, missing text or translation, bad settings."""

    code = "compile_refused"


def content_type_for(name: str) -> str:
    """The content type an output is stored and served with."""
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def output_key(compile_id: str, name: str) -> str:
    """The object key of one output (fixed names under the compile's prefix)."""
    return f"{output_prefix(compile_id)}{name}"


def output_prefix(compile_id: str) -> str:
    return f"compiles/{compile_id}/"


# --- claiming, joining, progress (shared by the stages) ---------------------------------------


def claim(session: Session, compile_id: str) -> bool:
    """Atomically start a queued compile (one UPDATE; ``attempts`` counts the starts)."""
    result = session.execute(
        update(Compile)
        .where(Compile.id == compile_id, Compile.status == "queued")
        .values(status="running", heartbeat_at=utcnow(), attempts=Compile.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def try_join(session: Session, compile_id: str) -> bool:
    """Move the compile to ``joining`` if no clip is left to prepare; ``True`` for the winner.

    One conditional UPDATE (``status = 'running' AND NOT EXISTS (unfinished clip)``): when the
    last two clips finish at the same moment on two workers, both try, the database lets
    exactly one UPDATE change the row (PostgreSQL re-checks the WHERE on the locked row; SQLite
    serialises writers), and only that worker sends ``compile.join``. Call it in its own
    transaction *after* the clip's own result is committed, so the last finisher sees it.
    """
    unfinished = exists().where(CompileClip.compile_id == compile_id,
                                CompileClip.status.in_(UNFINISHED))
    result = session.execute(
        update(Compile)
        .where(Compile.id == compile_id, Compile.status == "running", ~unfinished)
        .values(status="joining", heartbeat_at=None,
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
    values = [float(p) if st in UNFINISHED else 1.0
              for st, p in session.execute(
                  select(CompileClip.status, CompileClip.progress)
                  .where(CompileClip.compile_id == compile_id, CompileClip.status != "skipped"))]
    overall = round(CLIPS_SHARE * (sum(values) / len(values)), 4) if values else 0.0
    session.execute(
        update(Compile)
        .where(Compile.id == compile_id, Compile.status == "running")
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
        row.status, row.error_code, row.error = "failed", code, message[:4000]
        row.finished_at = utcnow()
        row.heartbeat_at = None


# --- building the engine's campaign from rows -------------------------------------------------


@dataclass(frozen=True)
class ClipPlan:
    """What the stage needs of one clip, read from the database (no ORM objects leak out)."""

    clip_id: str
    index: int
    original_key: str
    original_filename: str
    language: str
    language_name: str | None
    speaker: str
    role: str
    sentences: tuple[str, ...]
    trim: tuple[float, float] | None
    cues: tuple[tuple[float, float], ...] | None
    channels: tuple[str, ...] = ()
    """The channels the person agreed to (which outputs the clip may appear in)."""


@dataclass(frozen=True)
class CompilePlan:
    """Everything the compile reads from the database, as plain values."""

    compile_id: str
    title: str
    language: str
    translation_language: str
    script: tuple[str, ...]
    translation: tuple[str, ...]
    intro_text: str | None
    outro_text: str | None
    logo_key: str | None
    brand: Brand
    formats: tuple[str, ...]
    clips: tuple[ClipPlan, ...]


def _approved_translations(session: Session, campaign_id: str, language: str,
                           sentence_ids: list[str]) -> tuple[str, ...] | None:
    """The approved translation of every sentence in ``language``, or ``None`` if any is missing."""
    rows = session.scalars(
        select(Translation).where(
            Translation.campaign_id == campaign_id,
            Translation.status == "approved",
        )
    ).all()
    exact = {t.sentence_id: t.text for t in rows if t.language.lower() == language.lower()}
    loose = {t.sentence_id: t.text for t in rows
             if base_language(t.language) == base_language(language)}
    texts = []
    for sid in sentence_ids:
        text = exact.get(sid) or loose.get(sid)
        if not text or not text.strip():
            return None
        texts.append(" ".join(text.split()))
    return tuple(texts)


def _trim(clip: Clip) -> tuple[float, float] | None:
    if clip.trim_start is None and clip.trim_end is None:
        return None
    start = clip.trim_start or 0.0
    end = clip.trim_end if clip.trim_end is not None else (clip.duration or 0.0)
    if end <= start:
        return None
    return (float(start), float(end))


def _cues(clip: Clip) -> tuple[tuple[float, float], ...] | None:
    """Manual caption timing (seconds of the original), one ``{start, end}`` per sentence."""
    raw = clip.caption_cues
    if not raw:
        return None
    out = []
    for cue in raw:
        try:
            start, end = float(cue["start"]), float(cue["end"])
        except (KeyError, TypeError, ValueError):
            continue
        if end > start >= 0:
            out.append((start, end))
    return tuple(out) or None


def load_plan(session: Session, compile_id: str, *, add_missing: bool = True
              ) -> tuple[CompilePlan, list[str]]:
    """Read the compile and its clips; mark clips that lost consent ``skipped``.

    ``add_missing``: write a :class:`CompileClip` row for an eligible clip that has none (when
    the compile starts); later stages pass ``False`` and leave such late clips out.

    Returns the plan and the problems (one per clip that cannot be compiled: missing text);
    raises :class:`CompileRefused` when nothing can be compiled.
    """
    row = session.get(Compile, compile_id)
    if row is None:
        raise CompileRefused("the compile no longer exists", code="not_found")
    campaign = session.get(CampaignRow, row.campaign_id)
    if campaign is None:
        raise CompileRefused("the campaign no longer exists", code="not_found")
    sentences = session.scalars(
        select(Sentence).where(Sentence.campaign_id == campaign.id).order_by(Sentence.position)
    ).all()
    if not sentences:
        raise CompileRefused(f"campaign '{campaign.title}' has no sentences", code="no_sentences")
    script = tuple(" ".join(s.text.split()) for s in sentences)
    sentence_ids = [s.id for s in sentences]
    target = campaign.translation_language or campaign.language
    if base_language(target) == base_language(campaign.language):
        translation: tuple[str, ...] | None = script
    else:
        translation = _approved_translations(session, campaign.id, target, sentence_ids)
    if translation is None:
        raise CompileRefused(
            f"the campaign's translation line is in '{target}', but not every sentence has an "
            "approved translation in it", code="translation_missing")
    names = {
        cl.language.lower(): cl.language_name
        for cl in session.scalars(
            select(CampaignLanguage).where(CampaignLanguage.campaign_id == campaign.id)
        )
    }
    formats = tuple(row.formats or campaign.formats or ["landscape"])
    selection = consent.select_for_compile(session, campaign.id, formats)
    eligible = selection.clips
    eligible_ids = {c.id for c in eligible}
    existing = {
        cc.clip_id: cc
        for cc in session.scalars(select(CompileClip).where(CompileClip.compile_id == row.id))
    }
    for clip_id, cc in existing.items():
        if clip_id not in eligible_ids and cc.status != "skipped":
            code = selection.excluded.get(clip_id, "no_consent")
            cc.status, cc.error_code = "skipped", code
            cc.error = ("the person did not agree to any channel this compile's outputs are "
                        "made for" if code == "channel_not_agreed"
                        else "consent was withdrawn or is missing")
    if add_missing:  # approved but in no output: listed on the compile, never rendered
        for clip_id, code in selection.excluded.items():
            if clip_id not in existing:
                session.add(CompileClip(
                    compile_id=row.id, clip_id=clip_id, status="skipped", error_code=code,
                    error="the person did not agree to any channel this compile's outputs "
                          "are made for"))
    problems: list[str] = []
    plans: list[ClipPlan] = []
    for clip in eligible:
        if not add_missing and clip.id not in existing:
            continue
        cc = existing.get(clip.id) or CompileClip(
            compile_id=row.id, clip_id=clip.id, status="queued", progress=0.0)
        if clip.id not in existing:
            session.add(cc)
        leader = session.get(Leader, clip.leader_id) if clip.leader_id else None
        if clip.sentences:
            texts: tuple[str, ...] | None = tuple(" ".join(t.split()) for t in clip.sentences)
        elif base_language(clip.language) == base_language(campaign.language):
            texts = script
        else:
            texts = _approved_translations(session, campaign.id, clip.language, sentence_ids)
        if not texts:
            cc.status, cc.error_code = "failed", "missing_text"
            problems.append(f"clip {clip.original_filename or clip.id} ({clip.language}) has "
                            "no text and no approved translation in its language")
            continue
        plans.append(ClipPlan(
            clip_id=clip.id,
            index=len(plans) + 1,
            original_key=clip.original_key,
            original_filename=clip.original_filename,
            language=clip.language,
            language_name=names.get(clip.language.lower()),
            speaker=clip.speaker_name or (leader.name if leader else "") or "",
            role=clip.speaker_role or (leader.role if leader else "") or "",
            sentences=texts,
            trim=_trim(clip),
            cues=_cues(clip),
            channels=selection.channels.get(clip.id, ()),
        ))
    session.flush()
    if not plans and not problems:
        raise CompileRefused(
            "no clip can be compiled: none is approved with a consent record", code="no_clips")
    plan = CompilePlan(
        compile_id=row.id,
        title=campaign.title,
        language=campaign.language,
        translation_language=target,
        script=script,
        translation=translation,
        intro_text=campaign.intro_text or None,
        outro_text=campaign.outro_text or None,
        logo_key=campaign.logo_key,
        brand=Brand(background=campaign.brand_background, text=campaign.brand_text,
                    accent=campaign.brand_accent),
        formats=formats,
        clips=tuple(plans),
    )
    return plan, problems


def write_cue_srt(clip: ClipPlan, path: Path) -> Path:
    """Manual caption timing as an SRT file (the engine's ``captions`` override).

    Cue *n* shows sentence *n*; extra sentences join the last cue, extra cues are dropped.
    """
    assert clip.cues
    cues = list(clip.cues)[: len(clip.sentences)]
    texts = list(clip.sentences[: len(cues)])
    if len(clip.sentences) > len(cues):
        texts[-1] = " ".join(clip.sentences[len(cues) - 1:])
    entries = [captions.SubtitleEntry(start, end, text)
               for (start, end), text in zip(cues, texts, strict=True)]
    path.write_text(captions.write_srt(entries), encoding="utf-8")
    return path


def build_campaign(plan: CompilePlan, folder: Path, logo: Path | None = None,
                   clips: tuple[ClipPlan, ...] | None = None) -> Campaign:
    """The engine's :class:`Campaign` from the plan (``clips``: a subset, indexes 1..n).

    Each clip's file is :func:`original_path` in ``folder``: fetched there when the clip must
    be analysed or rendered, absent when its prepared data and segments are enough (the join).
    """
    specs = []
    for index, clip in enumerate(clips if clips is not None else plan.clips, start=1):
        srt = write_cue_srt(clip, folder / f"cues-{clip.clip_id}.srt") if clip.cues else None
        specs.append(ClipSpec(
            index=index, file=original_path(folder, clip), language=clip.language,
            language_name=clip.language_name, speaker=clip.speaker, role=clip.role,
            sentences=clip.sentences, trim=clip.trim, captions=srt, line=0))

    def card(text: str | None) -> Card | None:
        return Card(text=text, duration=CARD_SECONDS, logo=logo) if text else None

    return Campaign(
        path=folder / "campaign.yaml",
        title=plan.title,
        language=plan.language,
        translation_language=plan.translation_language,
        script=plan.script,
        translation=plan.translation,
        intro=card(plan.intro_text),
        outro=card(plan.outro_text),
        brand=plan.brand,
        formats=plan.formats,
        clips=tuple(specs),
    )


# --- the stage --------------------------------------------------------------------------------


def suffix_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".bin"


def original_path(folder: Path, clip: ClipPlan) -> Path:
    """Where a clip's original is (or would be) fetched to inside a work folder."""
    return folder / f"{clip.clip_id}{suffix_of(clip.original_filename)}"


def run(compile_id: str, settings: Settings) -> str | None:
    """Start (or re-start) a compile: fan out one ``clip.prepare`` per unfinished clip.

    A queued compile is claimed; a compile already ``running`` (a resumed or duplicate message)
    gets its unfinished clips sent again (each clip's own claim stops double work) and a join
    if every clip has ended meanwhile. Returns the compile's status, ``None`` if there was
    nothing to do.
    """
    with unit_of_work(settings) as session:
        row = session.get(Compile, compile_id)
        if row is None or row.status not in ("queued", "running"):
            return None
        started = claim(session, compile_id)
        if started:
            session.refresh(row)
            if row.attempts > MAX_ATTEMPTS:
                row.status, row.error_code = "failed", "too_many_attempts"
                row.error = f"the compile was started {row.attempts - 1} times and did not finish"
                row.finished_at = utcnow()
                return "failed"
            if row.started_at is None:
                row.started_at = utcnow()
            row.output_prefix = output_prefix(compile_id)
            row.error_code = row.error = None
        elif row.status != "running":
            return None
    try:
        with unit_of_work(settings) as session:
            _plan, problems = load_plan(session, compile_id)
    except CompileRefused as exc:
        fail(settings, compile_id, exc.code, exc.message)
        return "failed"
    if problems:
        fail(settings, compile_id, "missing_text", "; ".join(problems))
        return "failed"
    with unit_of_work(settings) as session:
        stale = and_(CompileClip.status == "running",
                     or_(CompileClip.heartbeat_at.is_(None),
                         CompileClip.heartbeat_at < lease_cutoff(settings)))
        session.execute(
            update(CompileClip)
            .where(CompileClip.compile_id == compile_id, stale)
            .values(status="queued", heartbeat_at=None)
            .execution_options(synchronize_session=False)
        )
        todo = list(session.scalars(
            select(CompileClip.id).where(CompileClip.compile_id == compile_id,
                                         CompileClip.status == "queued")
            .order_by(CompileClip.id)))
        for compile_clip_id in todo:
            jobs.enqueue("clip.prepare", session=session, compile_clip_id=compile_clip_id)
        touch_compile(session, compile_id)
    log.info("compile %s: %d clip(s) sent to prepare", compile_id, len(todo))
    join_if_ready(settings, compile_id)
    return "running"


def clip_counts(session: Session, compile_id: str) -> dict[str, int]:
    """How many of the compile's clips are in each state (for logs and tests)."""
    return {str(st): int(n) for st, n in session.execute(
        select(CompileClip.status, func.count()).where(CompileClip.compile_id == compile_id)
        .group_by(CompileClip.status))}
