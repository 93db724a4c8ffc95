"""Segments: plan which ones each output needs, render the missing ones, keep them in a store.

A segment is one clip (or the intro/outro card) in one format, rendered once and named by the
SHA-256 of everything that decides its pixels and samples (:func:`recipe_key`): the same key
is the same segment, whichever campaign, machine or run asks for it. The engine keeps the
segments it works with in a local folder (``<cache>/segments/<key>.mov``) and, when given a
:class:`SegmentStore`, fetches from it a segment the folder lacks and puts there every
segment it renders: ``chorus compile`` needs no store (its cache folder is the store), the
workers pass the object store, so a segment rendered by one worker serves every other.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from workers.media import captions, cards, render
from workers.media.cache import HashCache, recipe_key
from workers.media.campaign import Campaign, Card
from workers.media.errors import MediaError
from workers.media.languages import language_name
from workers.media.overlays import clip_cues, clip_overlays, cue_dict, translation_language
from workers.media.prepare import ClipProblem, PreparedClip, clip_label
from workers.media.progress import Progress, ProgressSink
from workers.media.style import DEFAULT_FORMAT, FORMATS, FPS, Frame
from workers.media.timeline import Segment


class SegmentStore(Protocol):
    """Where rendered segments are kept beyond the local folder, by content key."""

    def fetch(self, key: str, dest: Path) -> bool:
        """Copy the segment ``key`` to ``dest`` (whole or not at all); ``False`` if absent."""

    def put(self, key: str, path: Path) -> None:
        """Keep the segment at ``path`` under ``key`` (idempotent: a key is its content)."""


class CompileError(MediaError):
    """Some clips cannot be compiled; ``problems`` lists every one."""

    code = "bad_clips"

    def __init__(self, problems: Sequence[ClipProblem]):
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} clip(s) cannot be compiled:\n{lines}")
        self.problems = list(problems)


def resolve_formats(requested: Sequence[str] | None, default: Sequence[str] = ()
                    ) -> tuple[str, ...]:
    """Format names in order, ``all`` expanded; an unknown name is a :class:`MediaError`."""
    names: list[str] = []
    for name in requested or default or (DEFAULT_FORMAT,):
        for one in (FORMATS if name == "all" else [name]):
            if one not in FORMATS:
                raise MediaError(f"unknown format {one!r}; choose {', '.join(FORMATS)}",
                                 code="bad_format")
            if one not in names:
                names.append(one)
    return tuple(names)


def segment_folder(cache_dir: Path) -> Path:
    """The local folder of rendered segments inside an engine cache folder."""
    folder = Path(cache_dir) / "segments"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class SegmentJob:
    """One segment still to render: ``clip`` is the clip's index (``None`` for a card)."""

    key: str
    path: Path
    weight: float
    kind: str
    format: str
    clip: int | None
    run: Callable[[Callable[[float], None]], None]

    @property
    def item(self) -> str:
        """The job's name in progress events (a label for people; read ``clip``/``format``)."""
        return f"{self.kind}{self.clip or ''}:{self.format}"


@dataclass
class SegmentPlan:
    """Every segment of every output format, and the ones still to render."""

    names: tuple[str, ...]
    timelines: dict[str, list[Segment]]
    cues: dict[tuple[int, str], list[captions.Cue]]
    todo: dict[str, SegmentJob]

    def missing_clips(self) -> list[int]:
        """Indexes of the clips with a segment still to render."""
        return sorted({j.clip for j in self.todo.values() if j.clip is not None})

    def clip_segments(self, index: int) -> list[Segment]:
        """A clip's segment in each format."""
        return [s for tl in self.timelines.values() for s in tl if s.clip_index == index]


def _card_job(card: Card, kind: str, campaign: Campaign, frame: Frame,
              seg_dir: Path, hashes: HashCache) -> tuple[Segment, SegmentJob]:
    frames = render.frames_for(card.duration)
    logo_hash = hashes.sha256(card.logo) if card.logo else None
    key = recipe_key("card", card.text, frames, logo_hash, campaign.brand.__dict__,
                     frame.__dict__, campaign.language, render.ENCODER.as_dict())
    path = seg_dir / f"{key}.mov"

    def run(report: Callable[[float], None]) -> None:
        png = seg_dir / f".{key}.card.png"
        try:
            cards.render_card(frame, card.text, campaign.brand, png, logo=card.logo,
                              language=campaign.language)
            render.render_card_segment(card_png=png, frames=frames, brand=campaign.brand,
                                       out=path)
        finally:
            png.unlink(missing_ok=True)
        report(1.0)

    return (Segment(kind, key, path, frames),
            SegmentJob(key, path, frames / FPS * 0.3, kind, frame.name, None, run))


def _clip_job(campaign: Campaign, prepared: PreparedClip, cues: list[captions.Cue],
              frame: Frame, seg_dir: Path) -> tuple[Segment, SegmentJob]:
    spec = prepared.spec
    name = language_name(spec.language, spec.language_name)
    key = recipe_key(
        "clip", prepared.key, frame.__dict__, [cue_dict(c) for c in cues], spec.language,
        translation_language(campaign, spec), name.native, name.english, spec.speaker,
        spec.role, campaign.brand.__dict__, render.ENCODER.as_dict())
    path = seg_dir / f"{key}.mov"

    def run(report: Callable[[float], None]) -> None:
        if prepared.audio is None or not prepared.audio.exists():
            raise MediaError("the clip's prepared sound is not on this machine; prepare the "
                             "clip again before rendering it", code="not_prepared",
                             subject=str(spec.file))
        work = seg_dir / f".{key}.work"
        work.mkdir(parents=True, exist_ok=True)
        try:
            overlays = clip_overlays(campaign, spec, prepared.duration, cues, frame, work)
            render.render_clip_segment(
                source=spec.file, trim_start=prepared.trim_start, frames=prepared.frames,
                audio=prepared.audio, frame=frame,
                src_size=(prepared.width, prepared.height), brand=campaign.brand,
                overlays=overlays, out=path,
                progress=lambda s: report(min(1.0, s / prepared.duration)))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        report(1.0)

    return (Segment("clip", key, path, prepared.frames, spec.index, spec.language),
            SegmentJob(key, path, prepared.duration, "clip", frame.name, spec.index, run))


def plan_segments(campaign: Campaign, prepared: Mapping[int, PreparedClip],
                  formats: Sequence[str], *, cache_dir: Path,
                  clips: Sequence[int] | None = None, cards_too: bool = True,
                  store: SegmentStore | None = None) -> SegmentPlan:
    """Work out each format's segments (keys, cues) and which are not rendered yet.

    ``clips`` limits the plan to some clip indexes (a worker rendering one clip);
    ``cards_too=False`` leaves the intro/outro out. A segment missing from the local folder
    is fetched from ``store`` when it has it. Raises :class:`CompileError` for a clip whose cues
    cannot be made.
    """
    seg_dir = segment_folder(cache_dir)
    hashes = HashCache(Path(cache_dir) / "hashes.json")
    names = resolve_formats(formats, campaign.formats)
    good = [s for s in campaign.clips if s.index in prepared
            and (clips is None or s.index in clips)]
    cues: dict[tuple[int, str], list[captions.Cue]] = {}
    timelines: dict[str, list[Segment]] = {}
    todo: dict[str, SegmentJob] = {}

    def add(order: list[Segment], seg: Segment, job: SegmentJob) -> None:
        order.append(seg)
        if seg.path.exists() or seg.key in todo:
            return
        if store is not None and store.fetch(seg.key, seg.path):
            return
        todo[seg.key] = job

    for name in names:
        frame = FORMATS[name]
        order: list[Segment] = []
        if campaign.intro and cards_too:
            add(order, *_card_job(campaign.intro, "intro", campaign, frame, seg_dir, hashes))
        for spec in good:
            p = prepared[spec.index]
            try:
                cue_list = clip_cues(campaign, spec, p, frame)
            except MediaError as exc:
                raise CompileError([ClipProblem(spec.index, str(spec.file), clip_label(spec),
                                            exc.code, exc.message)]) from exc
            cues[(spec.index, name)] = cue_list
            add(order, *_clip_job(campaign, p, cue_list, frame, seg_dir))
        if campaign.outro and cards_too:
            add(order, *_card_job(campaign.outro, "outro", campaign, frame, seg_dir, hashes))
        timelines[name] = order
    hashes.save()
    return SegmentPlan(names, timelines, cues, todo)


def render_segments(plan: SegmentPlan, *, jobs: int = 1,
                    progress: ProgressSink | Progress | None = None,
                    store: SegmentStore | None = None) -> int:
    """Render the plan's missing segments, ``jobs`` at a time (each put in ``store`` as soon
    as it is done). Returns how many were rendered."""
    tracker = Progress.of(progress)
    for job in plan.todo.values():
        tracker.plan(job.item, job.weight * 4)

    def do(job: SegmentJob) -> None:
        job.run(lambda f: tracker.update(job.item, f, stage="render", segment=job.item,
                                         clip=job.clip, format=job.format))
        if store is not None:
            store.put(job.key, job.path)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for _ in pool.map(do, plan.todo.values()):
            pass
    return len(plan.todo)
