"""Stage ``compile.run``: a campaign's approved, consented clips → every output, stored.

Steps: claim the compile row (so two deliveries of one message never run it at once), select
the clips that may be compiled (approved AND with a non-withdrawn consent: the consent rule is
enforced here, where work starts, not only in the pages), fetch their originals to a work
folder, build the engine's ``Campaign`` from the rows, run ``compile_campaign`` with the shared
segment cache, then store every output under ``compiles/<compile_id>/`` and mark it done.

Idempotent and resumable: the work folder (``<data_dir>/work/compiles/<id>``) survives a crash;
originals already fetched are kept, segments already rendered are reused from the
content-addressed cache, a finished local compile (marker file) is not run again, and an output
already stored whole is not uploaded again. Output keys are fixed names, so a re-run can only
ever produce one set of outputs. Progress and a heartbeat are written by a background thread at
most once a second (throttled DB writes), so the engine's many progress events cost nothing.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import shutil
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from service.clips.repository import compilable_clips
from service.db import unit_of_work
from service.jobs import COMPILE_LEASE_SECONDS
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
from service.queue import MAX_RETRIES
from service.settings import Settings
from workers.media import captions
from workers.media.campaign import Campaign, Card, ClipSpec
from workers.media.errors import MediaError
from workers.media.languages import base_language
from workers.media.style import Brand
from workers.stages.common import cache_dir, store_for, work_root

log = logging.getLogger(__name__)

MAX_ATTEMPTS = MAX_RETRIES + 2
"""Claims of one compile before it is failed for good (retries plus one restart)."""
FLUSH_SECONDS = 1.0
"""At most one progress write a second."""
FETCH_SHARE, STORE_SHARE = 0.05, 0.05
"""Parts of the overall progress spent fetching originals and storing outputs."""
DONE_MARKER = ".compiled.json"
CARD_SECONDS = 3.0

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


# --- claiming ---------------------------------------------------------------------------------


def claim(session: Session, compile_id: str) -> bool:
    """Atomically take the compile: queued, or running with a lapsed heartbeat (owner died)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=COMPILE_LEASE_SECONDS)
    result = session.execute(
        update(Compile)
        .where(
            Compile.id == compile_id,
            or_(
                Compile.status == "queued",
                and_(
                    Compile.status == "running",
                    or_(Compile.heartbeat_at.is_(None), Compile.heartbeat_at < cutoff),
                ),
            ),
        )
        .values(status="running", heartbeat_at=now, attempts=Compile.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


# --- progress ---------------------------------------------------------------------------------

_SEGMENT_ITEM = re.compile(r"^clip(\d+):(\w+)$")
_PREPARE_ITEM = re.compile(r"^prepare:(\d+)$")


@dataclass
class ProgressState:
    """Progress in memory, updated by the engine's threads, flushed by :class:`Flusher`."""

    formats: int
    index_to_clip: dict[int, str] = field(default_factory=dict)
    overall: float = 0.0
    prepare: dict[int, float] = field(default_factory=dict)
    render: dict[tuple[int, str], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    version: int = 0

    def set_overall(self, value: float) -> None:
        with self.lock:
            self.overall = max(self.overall, min(1.0, value))
            self.version += 1

    def on_event(self, event: dict[str, Any]) -> None:
        """The engine's progress callback: ``{"item", "fraction", "overall", ...}``."""
        item = str(event.get("item", ""))
        fraction = float(event.get("fraction") or 0.0)
        with self.lock:
            if m := _PREPARE_ITEM.match(item):
                self.prepare[int(m.group(1))] = fraction
            elif m := _SEGMENT_ITEM.match(item):
                self.render[(int(m.group(1)), m.group(2))] = fraction
            engine = float(event.get("overall") or 0.0)
            self.overall = max(self.overall, FETCH_SHARE + engine * (1 - FETCH_SHARE - STORE_SHARE))
            self.version += 1

    def per_clip(self) -> dict[str, float]:
        """Each clip's progress: 20 % analysis, 80 % its segments in every format."""
        with self.lock:
            out: dict[str, float] = {}
            for index, clip_id in self.index_to_clip.items():
                renders = [v for (i, _), v in self.render.items() if i == index]
                rendered = sum(renders) / max(self.formats, 1) if renders else 0.0
                out[clip_id] = round(0.2 * self.prepare.get(index, 0.0) + 0.8 * rendered, 4)
            return out


class Flusher(threading.Thread):
    """Writes progress and the heartbeat once a second while the compile runs."""

    def __init__(self, settings: Settings, compile_id: str, state: ProgressState):
        super().__init__(name=f"compile-progress-{compile_id[:8]}", daemon=True)
        self.settings, self.compile_id, self.state = settings, compile_id, state
        self.stopping = threading.Event()
        self._written = -1

    def run(self) -> None:
        while not self.stopping.wait(FLUSH_SECONDS):
            try:
                self.flush()
            except Exception:  # a busy database must not kill the compile
                log.exception("progress write failed for compile %s", self.compile_id)

    def flush(self) -> None:
        version = self.state.version
        per_clip = self.state.per_clip()
        with unit_of_work(self.settings) as session:
            values: dict[str, Any] = {"heartbeat_at": utcnow()}
            if version != self._written:
                values["progress"] = round(self.state.overall, 4)
            session.execute(
                update(Compile)
                .where(Compile.id == self.compile_id, Compile.status == "running")
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if version != self._written:
                for clip_id, value in per_clip.items():
                    session.execute(
                        update(CompileClip)
                        .where(CompileClip.compile_id == self.compile_id,
                               CompileClip.clip_id == clip_id)
                        .values(progress=value, status="running" if value < 1 else "done")
                        .execution_options(synchronize_session=False)
                    )
        self._written = version

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


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


def load_plan(session: Session, compile_id: str) -> tuple[CompilePlan, list[str]]:
    """Read the compile and its clips; mark clips that lost consent ``skipped``.

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
    eligible = list(compilable_clips(session, campaign.id))
    eligible_ids = {c.id for c in eligible}
    existing = {
        cc.clip_id: cc
        for cc in session.scalars(select(CompileClip).where(CompileClip.compile_id == row.id))
    }
    for clip_id, cc in existing.items():
        if clip_id not in eligible_ids and cc.status != "skipped":
            cc.status, cc.error_code = "skipped", "no_consent"
    problems: list[str] = []
    plans: list[ClipPlan] = []
    for clip in eligible:
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
        ))
    session.flush()
    if not plans and not problems:
        raise CompileRefused(
            "no clip can be compiled: none is approved with a consent record", code="no_clips")
    formats = tuple(row.formats or campaign.formats or ["landscape"])
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


def build_campaign(plan: CompilePlan, folder: Path, originals: dict[str, Path],
                   logo: Path | None) -> Campaign:
    """The engine's :class:`Campaign` from the plan and the fetched files."""
    specs = []
    for clip in plan.clips:
        srt = write_cue_srt(clip, folder / f"cues-{clip.clip_id}.srt") if clip.cues else None
        specs.append(ClipSpec(
            index=clip.index, file=originals[clip.clip_id], language=clip.language,
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


def _fetch(settings: Settings, key: str, dest: Path) -> Path:
    """Fetch an object unless a complete copy is already there (resume after a crash)."""
    store = store_for(settings)
    if dest.exists() and dest.stat().st_size == store.size(key):
        return dest
    store.get_file(key, dest)
    return dest


def _suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".bin"


def _fail(settings: Settings, compile_id: str, code: str, message: str,
          clip_codes: dict[str, str] | None = None) -> None:
    with unit_of_work(settings) as session:
        row = session.get(Compile, compile_id)
        if row is None:
            return
        row.status, row.error_code, row.error = "failed", code, message[:4000]
        row.finished_at = utcnow()
        for cc in session.scalars(select(CompileClip).where(CompileClip.compile_id == compile_id)):
            if clip_codes and cc.clip_id in clip_codes:
                cc.status, cc.error_code = "failed", clip_codes[cc.clip_id]
            elif cc.status in ("queued", "running"):
                cc.status = "queued"


def _release(settings: Settings, compile_id: str) -> None:
    """Give the claim back so a retry (or a restart) can take it at once."""
    with unit_of_work(settings) as session:
        session.execute(
            update(Compile)
            .where(Compile.id == compile_id, Compile.status == "running")
            .values(status="queued", heartbeat_at=None)
            .execution_options(synchronize_session=False)
        )


def run(compile_id: str, settings: Settings, *, jobs: int | None = None) -> str | None:
    """Run one compile to the end; return its final status (``None``: nothing to do here)."""
    with unit_of_work(settings) as session:
        if not claim(session, compile_id):
            return None
        row = session.get(Compile, compile_id)
        assert row is not None
        session.refresh(row)
        if row.attempts > MAX_ATTEMPTS:
            row.status, row.error_code = "failed", "too_many_attempts"
            row.error = f"the compile was tried {row.attempts - 1} times and did not finish"
            row.finished_at = utcnow()
            return "failed"
        if row.started_at is None:
            row.started_at = utcnow()
        row.output_prefix = output_prefix(compile_id)
        row.error_code = row.error = None
    try:
        with unit_of_work(settings) as session:
            plan, problems = load_plan(session, compile_id)
    except CompileRefused as exc:
        _fail(settings, compile_id, exc.code, exc.message)
        return "failed"
    if problems:
        _fail(settings, compile_id, "missing_text", "; ".join(problems))
        return "failed"
    state = ProgressState(formats=len(plan.formats),
                          index_to_clip={c.index: c.clip_id for c in plan.clips})
    flusher = Flusher(settings, compile_id, state)
    flusher.start()
    folder = work_root(settings) / "compiles" / compile_id
    try:
        outputs = _produce(settings, plan, folder, state, jobs)
        _store(settings, compile_id, folder / "out", outputs, state)
    except MediaError as exc:
        flusher.stop()
        clip_codes = _clip_codes(exc, plan)
        _fail(settings, compile_id, exc.code, str(exc), clip_codes)
        shutil.rmtree(folder, ignore_errors=True)
        return "failed"
    except BaseException:
        flusher.stop()
        _release(settings, compile_id)
        raise
    flusher.stop()
    _finish(settings, compile_id, folder / "out", outputs)
    shutil.rmtree(folder, ignore_errors=True)
    return "done"


def _clip_codes(exc: MediaError, plan: CompilePlan) -> dict[str, str]:
    """Which clips an engine error was about (``CompileError.problems`` by index)."""
    by_index = {c.index: c.clip_id for c in plan.clips}
    out: dict[str, str] = {}
    for problem in getattr(exc, "problems", []) or []:
        clip_id = by_index.get(getattr(problem, "index", -1))
        if clip_id:
            out[clip_id] = str(getattr(problem, "code", exc.code))
    return out


def _produce(settings: Settings, plan: CompilePlan, folder: Path, state: ProgressState,
             jobs: int | None) -> list[str]:
    """Fetch inputs and compile, unless a finished local compile is already in the folder."""
    from workers.media.compile import compile_campaign

    marker = folder / DONE_MARKER
    outdir = folder / "out"
    if marker.exists():
        try:
            done = json.loads(marker.read_text("utf-8"))
            if done.get("formats") == list(plan.formats) and all(
                    (outdir / name).exists() for name in done["outputs"]):
                state.set_overall(1 - STORE_SHARE)
                return list(done["outputs"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    inputs = folder / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    originals: dict[str, Path] = {}
    for n, clip in enumerate(plan.clips, start=1):
        originals[clip.clip_id] = _fetch(
            settings, clip.original_key,
            inputs / f"{clip.clip_id}{_suffix(clip.original_filename)}")
        state.set_overall(FETCH_SHARE * n / len(plan.clips))
    logo = None
    if plan.logo_key:
        logo = _fetch(settings, plan.logo_key, inputs / f"logo{_suffix(plan.logo_key)}")
    campaign = build_campaign(plan, inputs, originals, logo)
    result = compile_campaign(
        campaign, outdir, formats=plan.formats, jobs=jobs or max(1, settings.worker_threads),
        skip_bad=False, cache_dir=cache_dir(settings), progress=state.on_event)
    outputs = list(dict.fromkeys(result.outputs))
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps({"formats": list(plan.formats), "outputs": outputs}), "utf-8")
    tmp.replace(marker)
    return outputs


def _store(settings: Settings, compile_id: str, outdir: Path, outputs: list[str],
           state: ProgressState) -> None:
    """Store every output whole; one already stored with the same size is skipped."""
    store = store_for(settings)
    for n, name in enumerate(outputs, start=1):
        path = outdir / name
        key = output_key(compile_id, name)
        if not (store.exists(key) and store.size(key) == path.stat().st_size):
            store.put_file(key, path, content_type_for(name))
        state.set_overall(1 - STORE_SHARE + STORE_SHARE * n / len(outputs))


def _finish(settings: Settings, compile_id: str, outdir: Path, outputs: list[str]) -> None:
    records = [
        {"name": name, "key": output_key(compile_id, name),
         "content_type": content_type_for(name), "size": (outdir / name).stat().st_size}
        for name in outputs
    ]
    with unit_of_work(settings) as session:
        row = session.get(Compile, compile_id)
        if row is None:
            return
        row.outputs = records
        row.status, row.progress = "done", 1.0
        row.finished_at = utcnow()
        row.heartbeat_at = None
        for cc in session.scalars(select(CompileClip).where(CompileClip.compile_id == compile_id)):
            if cc.status != "skipped":
                cc.status, cc.progress, cc.error_code = "done", 1.0, None
