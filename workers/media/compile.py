"""Compile a campaign: clips in, captioned, loudness-matched videos and their companions out.

The order of work:

1. **Prepare** every clip (probe, validate, speech, trim, loudness) in parallel; collect every
   bad clip before rendering anything, so a comms officer sees the whole list at once.
2. **Render** one segment per clip and format (and the intro/outro cards), `jobs` at a time,
   each keyed by its content: a segment whose key already exists is not rendered again.
3. **Join** by stream copy into `video-{format}.mp4` and the per-language cuts; write
   subtitles, posters and `report.json`. An output whose inputs have not changed is left
   untouched (same bytes, same modification time).

The function is pure media code: paths and dataclasses in, paths and a result out. The CLI and
the service's compile stage both call :func:`compile_campaign`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workers.media import captions, cards, ffmpeg, fonts, loudness, probe, render
from workers.media.cache import HashCache, recipe_key, write_text_atomic
from workers.media.campaign import Campaign, Card, ClipSpec
from workers.media.errors import MediaError
from workers.media.languages import language_name
from workers.media.prepare import ClipProblem, PreparedClip, clip_label, prepare_clip
from workers.media.style import FORMATS, FPS, Frame
from workers.media.timeline import Segment, Timeline, cut_for_language

REPORT_SCHEMA = "chorus.report/1"
WHATSAPP_BYTES_PER_MINUTE = 16 * 1000 * 1000
LOWER_THIRD = (0.4, 5.5)  # seconds from a clip's start

ProgressSink = Callable[[dict[str, Any]], None]


class CompileError(MediaError):
    """Some clips cannot be compiled; ``problems`` lists every one."""

    code = "bad_clips"

    def __init__(self, problems: Sequence[ClipProblem]):
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} clip(s) cannot be compiled:\n{lines}")
        self.problems = list(problems)


@dataclass
class CompileResult:
    outdir: Path
    outputs: list[str]
    report: dict[str, Any]
    segments_rendered: int
    segments_reused: int
    outputs_written: list[str]
    skipped: list[ClipProblem] = field(default_factory=list)


def resolve_formats(campaign: Campaign, requested: Sequence[str] | None) -> tuple[str, ...]:
    names: list[str] = []
    for name in requested or campaign.formats or ("landscape",):
        for one in (FORMATS if name == "all" else [name]):
            if one not in FORMATS:
                raise MediaError(f"unknown format {one!r}; choose landscape, portrait or square",
                                 code="bad_format")
            if one not in names:
                names.append(one)
    return tuple(names)


def _same_language(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.lower() == b.lower())


# ---------------------------------------------------------------------------- progress


class _Progress:
    """Turns per-item fractions into events with an overall fraction, thread-safely."""

    def __init__(self, sink: ProgressSink | None):
        self.sink = sink
        self.lock = threading.Lock()
        self.weights: dict[str, float] = {}
        self.done: dict[str, float] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        if self.sink is not None:
            self.sink(event)

    def plan(self, item: str, weight: float) -> None:
        self.weights[item] = max(weight, 1e-6)
        self.done.setdefault(item, 0.0)

    def update(self, item: str, fraction: float, **info: Any) -> None:
        if self.sink is None:
            return
        with self.lock:
            self.done[item] = min(1.0, max(self.done.get(item, 0.0), fraction))
            total = sum(self.weights.values()) or 1.0
            overall = sum(self.weights[k] * self.done.get(k, 0.0) for k in self.weights) / total
            event = {"item": item, "fraction": round(self.done[item], 4),
                     "overall": round(overall, 4), **info}
            self.sink(event)


# ---------------------------------------------------------------------------- cues


def _clip_texts(campaign: Campaign, spec: ClipSpec) -> tuple[list[str], list[str] | None]:
    native = list(spec.sentences)
    if _same_language(spec.language, campaign.translation_language):
        return native, None
    return native, list(campaign.translation)


def _drawn_texts(campaign: Campaign, spec: ClipSpec) -> list[tuple[str, str | None]]:
    """Every text a clip's segment draws, with its language: checked before work is spent
    on the clip, so a text no installed font can draw makes it a bad clip like any other."""
    native, translation = _clip_texts(campaign, spec)
    name = language_name(spec.language, spec.language_name)
    return [*((t, spec.language) for t in native),
            *((t, campaign.translation_language) for t in translation or ()),
            (name.native, spec.language), (name.english, "en"),
            (spec.speaker, spec.language), (spec.role, spec.language)]


def clip_cues(campaign: Campaign, spec: ClipSpec, prepared: PreparedClip,
              frame: Frame) -> list[captions.Cue]:
    """The clip's caption cues for one frame size (wrapping depends on pixels)."""
    native, translation = _clip_texts(campaign, spec)
    native_fit, translation_fit = cards.caption_fitters(
        frame, " ".join(native), spec.language,
        " ".join(translation) if translation else None,
        campaign.translation_language if translation else None)
    wrap_t = translation_fit.wrap if translation_fit else None
    if spec.captions is not None:
        entries = captions.parse_subtitles(spec.captions)
        return captions.cues_from_subtitles(
            entries, translation, trim_start=prepared.trim_start, trim_end=prepared.trim_end,
            wrap_native=native_fit.wrap, wrap_translation=wrap_t, fps=FPS)
    return captions.time_cues(
        native, translation, list(prepared.speech), prepared.duration,
        wrap_native=native_fit.wrap, wrap_translation=wrap_t, fps=FPS)


def _cue_dict(cue: captions.Cue) -> dict[str, Any]:
    return {"start": round(cue.start, 3), "end": round(cue.end, 3),
            "native": list(cue.native_lines), "translation": list(cue.translation_lines),
            "sentences": list(cue.sentences)}


# ---------------------------------------------------------------------------- segments


@dataclass(frozen=True)
class _SegmentJob:
    key: str
    path: Path
    weight: float
    run: Callable[[Callable[[float], None]], None]
    item: str


def _card_job(card: Card, kind: str, campaign: Campaign, frame: Frame,
              seg_dir: Path, hashes: HashCache) -> tuple[Segment, _SegmentJob | None]:
    frames = render.frames_for(card.duration)
    logo_hash = hashes.sha256(card.logo) if card.logo else None
    key = recipe_key("card", card.text, frames, logo_hash, campaign.brand.__dict__,
                     frame.__dict__, campaign.language, render.ENCODER.as_dict())
    path = seg_dir / f"{key}.mov"
    segment = Segment(kind, key, path, frames)
    if path.exists():
        return segment, None

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

    return segment, _SegmentJob(key, path, frames / FPS * 0.3, run, f"{kind}:{frame.name}")


def _clip_job(campaign: Campaign, prepared: PreparedClip, cues: list[captions.Cue],
              frame: Frame, seg_dir: Path) -> tuple[Segment, _SegmentJob | None]:
    spec = prepared.spec
    name = language_name(spec.language, spec.language_name)
    key = recipe_key(
        "clip", prepared.key, frame.__dict__, [_cue_dict(c) for c in cues], spec.language,
        campaign.translation_language, name.native, name.english, spec.speaker, spec.role,
        campaign.brand.__dict__, render.ENCODER.as_dict())
    path = seg_dir / f"{key}.mov"
    segment = Segment("clip", key, path, prepared.frames, spec.index, spec.language)
    if path.exists():
        return segment, None

    def run(report: Callable[[float], None]) -> None:
        work = seg_dir / f".{key}.work"
        work.mkdir(parents=True, exist_ok=True)
        try:
            overlays: list[render.TimedOverlay] = []
            lt = cards.render_lower_third(frame, name.native, name.english, spec.speaker,
                                          spec.role, campaign.brand, work / "lower.png",
                                          language=spec.language)
            end = min(LOWER_THIRD[1], prepared.duration - 0.4)
            if end > LOWER_THIRD[0]:
                overlays.append(render.TimedOverlay(lt, LOWER_THIRD[0], end))
            translation_language = (None if _same_language(spec.language,
                                                           campaign.translation_language)
                                    else campaign.translation_language)
            for n, cue in enumerate(cues):
                ov = cards.render_caption(frame, cue.native_lines, spec.language,
                                          cue.translation_lines, translation_language,
                                          work / f"cue{n:03d}.png")
                overlays.append(render.TimedOverlay(ov, cue.start, cue.end))
            render.render_clip_segment(
                source=spec.file, trim_start=prepared.trim_start, frames=prepared.frames,
                audio=prepared.audio, frame=frame,
                src_size=(prepared.width, prepared.height), brand=campaign.brand,
                overlays=overlays, out=path,
                progress=lambda s: report(min(1.0, s / prepared.duration)))
        finally:
            for f in work.glob("*"):
                f.unlink(missing_ok=True)
            work.rmdir()
        report(1.0)

    return segment, _SegmentJob(key, path, prepared.duration, run,
                                f"clip{spec.index}:{frame.name}")


# ---------------------------------------------------------------------------- outputs


class _Manifest:
    """What each output was made from, so an unchanged output is not rewritten."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            self.data = {}

    def fresh(self, name: str, key: str, outdir: Path) -> bool:
        entry = self.data.get(name)
        target = outdir / name
        if not entry or entry.get("key") != key or not target.exists():
            return False
        st = target.stat()
        return bool(entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns)

    def record(self, name: str, key: str, outdir: Path, **extra: Any) -> None:
        st = (outdir / name).stat()
        self.data[name] = {"key": key, "size": st.st_size, "mtime_ns": st.st_mtime_ns, **extra}

    def details(self, name: str) -> dict[str, Any]:
        return dict(self.data.get(name) or {})

    def save(self) -> None:
        write_text_atomic(self.path, json.dumps(self.data, indent=1, sort_keys=True))


def _subtitle_entries(cue_list: list[tuple[float, captions.Cue]], which: str
                      ) -> list[captions.SubtitleEntry]:
    entries = []
    for offset, cue in cue_list:
        lines = cue.native_lines if which == "native" else cue.translation_lines
        if lines:
            entries.append(captions.SubtitleEntry(round(offset + cue.start, 3),
                                                  round(offset + cue.end, 3), "\n".join(lines)))
    entries.sort(key=lambda e: e.start)
    return entries


def _workspace(outdir: Path | None, cache_dir: Path | None) -> tuple[Path, Path, HashCache]:
    if cache_dir is None and outdir is None:
        raise ValueError("need an output folder or a cache folder")
    cache = Path(cache_dir) if cache_dir else Path(outdir or ".") / ".cache"
    seg_dir = cache / "segments"
    seg_dir.mkdir(parents=True, exist_ok=True)
    return cache, seg_dir, HashCache(cache / "hashes.json")


def prepare(campaign: Campaign, spec: ClipSpec, *, cache_dir: Path,
            policy: probe.Policy | None = None, hashes: HashCache | None = None
            ) -> PreparedClip:
    """Stage 1 for one clip: probe, validate, trim and normalise its sound (cached).

    Raises :class:`MediaError` with the reason the clip cannot be used.
    """
    if not spec.file.exists():
        raise MediaError("the file does not exist", code="missing_file", subject=str(spec.file))
    own = hashes is None
    hashes = hashes or HashCache(Path(cache_dir) / "hashes.json")
    digest = hashes.sha256(spec.file)
    if own:
        hashes.save()
    target = loudness.LoudnessTarget(integrated=campaign.loudness_target)
    return prepare_clip(spec, source_sha256=digest, cache_dir=Path(cache_dir),
                        policy=policy or probe.Policy(), target=target)


@dataclass
class SegmentPlan:
    """Every segment of every output format, and the ones still to render."""

    names: tuple[str, ...]
    timelines: dict[str, list[Segment]]
    cues: dict[tuple[int, str], list[captions.Cue]]
    todo: dict[str, _SegmentJob]

    def missing_keys(self) -> list[str]:
        return list(self.todo)


def plan_segments(campaign: Campaign, prepared: dict[int, PreparedClip],
                  formats: Sequence[str], *, cache_dir: Path,
                  clips: Sequence[int] | None = None, cards_too: bool = True) -> SegmentPlan:
    """Work out each format's segments (keys, cues) and which are not rendered yet.

    ``clips`` limits the plan to some clip indexes (a worker rendering one clip);
    ``cards_too=False`` leaves the intro/outro out of it.
    """
    _, seg_dir, hashes = _workspace(None, cache_dir)
    names = resolve_formats(campaign, formats)
    good = [s for s in campaign.clips if s.index in prepared
            and (clips is None or s.index in clips)]
    cues: dict[tuple[int, str], list[captions.Cue]] = {}
    timelines: dict[str, list[Segment]] = {}
    todo: list[_SegmentJob] = []
    for name in names:
        frame = FORMATS[name]
        order: list[Segment] = []
        if campaign.intro and cards_too:
            seg, job = _card_job(campaign.intro, "intro", campaign, frame, seg_dir, hashes)
            order.append(seg)
            todo += [job] if job else []
        for spec in good:
            p = prepared[spec.index]
            try:
                cue_list = clip_cues(campaign, spec, p, frame)
            except MediaError as exc:
                raise CompileError([ClipProblem(spec.index, str(spec.file), clip_label(spec),
                                                exc.code, exc.message)]) from exc
            cues[(spec.index, name)] = cue_list
            seg, job = _clip_job(campaign, p, cue_list, frame, seg_dir)
            order.append(seg)
            todo += [job] if job else []
        if campaign.outro and cards_too:
            seg, job = _card_job(campaign.outro, "outro", campaign, frame, seg_dir, hashes)
            order.append(seg)
            todo += [job] if job else []
        timelines[name] = order
    hashes.save()
    return SegmentPlan(names, timelines, cues, {j.key: j for j in todo})


def render_segments(plan: SegmentPlan, *, jobs: int = 1,
                    progress: ProgressSink | None = None) -> int:
    """Render the plan's missing segments, ``jobs`` at a time. Returns how many."""
    tracker = progress if isinstance(progress, _Progress) else _Progress(progress)
    for job in plan.todo.values():
        tracker.plan(job.item, job.weight * 4)

    def do(job: _SegmentJob) -> None:
        job.run(lambda f: tracker.update(job.item, f, stage="render", segment=job.item))

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for _ in pool.map(do, plan.todo.values()):
            pass
    return len(plan.todo)


def render_clip(campaign: Campaign, prepared: PreparedClip, formats: Sequence[str], *,
                cache_dir: Path, progress: ProgressSink | None = None) -> list[Segment]:
    """Stage 2 for one clip: its segment in every format (rendered unless cached)."""
    plan = plan_segments(campaign, {prepared.spec.index: prepared}, formats,
                         cache_dir=cache_dir, clips=[prepared.spec.index], cards_too=False)
    render_segments(plan, jobs=1, progress=progress)
    return [seg for tl in plan.timelines.values() for seg in tl]


def compile_campaign(
    campaign: Campaign,
    outdir: Path,
    *,
    formats: Sequence[str] | None = None,
    jobs: int | None = None,
    skip_bad: bool = False,
    cache_dir: Path | None = None,
    progress: ProgressSink | None = None,
    policy: probe.Policy | None = None,
) -> CompileResult:
    """Compile ``campaign`` into ``outdir``. Raises :class:`CompileError` listing bad clips
    (unless ``skip_bad``), or :class:`MediaError` for problems with the tools or fonts."""
    ffmpeg.require_tools()
    fonts.require_shaping()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cache, _, hashes = _workspace(outdir, cache_dir)
    jobs = max(1, jobs or os.cpu_count() or 1)
    names = resolve_formats(campaign, formats)
    tracker = _Progress(progress)

    # 1. prepare every clip
    for spec in campaign.clips:
        tracker.plan(f"prepare:{spec.index}", 1.0)
    problems: list[ClipProblem] = []
    prepared: dict[int, PreparedClip] = {}

    def prep(spec: ClipSpec) -> None:
        try:
            fonts.require_drawable(_drawn_texts(campaign, spec))
            prepared[spec.index] = prepare(campaign, spec, cache_dir=cache, policy=policy,
                                           hashes=hashes)
        except MediaError as exc:
            problems.append(ClipProblem(spec.index, str(spec.file), clip_label(spec),
                                        exc.code, exc.message))
        tracker.update(f"prepare:{spec.index}", 1.0, stage="prepare", clip=spec.index)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(prep, campaign.clips))
    hashes.save()
    problems.sort(key=lambda p: p.index)
    if problems and not skip_bad:
        raise CompileError(problems)
    return assemble(campaign, prepared, outdir, formats=names, cache_dir=cache, jobs=jobs,
                    problems=problems, progress=tracker)


def assemble(
    campaign: Campaign,
    prepared: dict[int, PreparedClip],
    outdir: Path,
    *,
    formats: Sequence[str],
    cache_dir: Path,
    jobs: int = 1,
    problems: Sequence[ClipProblem] = (),
    progress: ProgressSink | None = None,
) -> CompileResult:
    """Stage 3: render whatever segment is still missing, then join and write every output.

    An output whose inputs have not changed since the last run is left untouched.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    tracker = progress if isinstance(progress, _Progress) else _Progress(progress)
    good = [s for s in campaign.clips if s.index in prepared]
    if not good:
        raise CompileError(problems) if problems else MediaError(
            "the campaign has no clips", code="no_clips")
    plan = plan_segments(campaign, prepared, formats, cache_dir=cache_dir)
    names, timelines, cues = plan.names, plan.timelines, plan.cues
    rendered = render_segments(plan, jobs=jobs, progress=tracker)

    # outputs
    manifest = _Manifest(outdir / ".manifest.json")
    written: list[str] = []
    outputs: list[str] = []
    finals: dict[str, Any] = {}
    for name in names:
        tracker.plan(f"join:{name}", 2.0)
    for name in names:
        segments = timelines[name]
        timeline = Timeline.of(segments)
        video = f"video-{name}.mp4"
        key = recipe_key("join", timeline.keys, render.ENCODER.as_dict())
        if not manifest.fresh(video, key, outdir):

            def joined(seconds: float, n: str = name, d: float = timeline.duration) -> None:
                tracker.update(f"join:{n}", 0.8 * seconds / d, stage="join", format=n)

            render.join_segments(timeline.paths, outdir / video, progress=joined)
            final = _programme_loudness(segments, prepared, outdir / video)
            manifest.record(video, key, outdir, integrated=round(final.integrated, 2),
                            true_peak=round(final.true_peak, 2))
            written.append(video)
        outputs.append(video)
        extra = manifest.details(video)
        finals[name] = {"file": video, "duration": round(timeline.duration, 3),
                        "frames": timeline.frames,
                        "integrated": extra.get("integrated"), "true_peak": extra.get("true_peak"),
                        "clips": [{"clip": p.segment.clip_index, "start": round(p.start, 3),
                                   "end": round(p.end, 3)} for p in timeline.clips()]}
        # poster: a frame from the middle of the first clip
        first = timeline.clips()[0]
        poster = f"poster-{name}.jpg"
        at = first.start + min(2.0, first.segment.duration / 2)
        pkey = recipe_key("poster", key, at)
        if not manifest.fresh(poster, pkey, outdir):
            render.extract_poster(outdir / video, at, outdir / poster)
            manifest.record(poster, pkey, outdir)
            written.append(poster)
        outputs.append(poster)
        # per-language cuts: independent stream-copy joins, `jobs` at a time
        stale: list[tuple[str, str, Timeline]] = []
        for language in dict.fromkeys(s.language for s in good):
            cut_tl = cut_for_language(segments, language)
            cut = f"cuts/{language}-{name}.mp4"
            ckey = recipe_key("cut", cut_tl.keys, render.ENCODER.as_dict())
            if not manifest.fresh(cut, ckey, outdir):
                stale.append((cut, ckey, cut_tl))
            outputs.append(cut)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(lambda c: render.join_segments(c[2].paths, outdir / c[0]), stale))
        for cut, ckey, _ in stale:
            manifest.record(cut, ckey, outdir)
            written.append(cut)
        tracker.update(f"join:{name}", 1.0, stage="join", format=name)

    outputs += _write_subtitles(campaign, good, timelines[names[0]], cues, names[0], outdir,
                                written)
    cut_warnings = _cut_warnings(outdir, outputs, timelines)
    report = _report(campaign, names, good, prepared, cues, problems, finals, outputs,
                     cut_warnings)
    if write_text_atomic(outdir / "report.json",
                         json.dumps(report, ensure_ascii=False, indent=2) + "\n"):
        written.append("report.json")
    outputs.append("report.json")
    manifest.save()
    tracker.update("done", 1.0, stage="done")
    total = sum(len(v) for v in timelines.values())
    return CompileResult(outdir, outputs, report, rendered, total - rendered, written,
                         list(problems))


def _programme_loudness(segments: Sequence[Segment], prepared: dict[int, PreparedClip],
                        video: Path) -> loudness.Loudness:
    """The joined programme's loudness from its clips' measured sound (the cards are
    silence), without decoding it; measured from the file if a clip lacks its blocks."""
    parts = [prepared[s.clip_index].measured() for s in segments if s.clip_index is not None]
    if any(p is None for p in parts):
        return loudness.measure_final(video)
    return loudness.programme_loudness(p for p in parts if p is not None)


def _write_subtitles(campaign: Campaign, good: Sequence[ClipSpec], segments: list[Segment],
                     cues: dict[tuple[int, str], list[captions.Cue]], primary: str,
                     outdir: Path, written: list[str]) -> list[str]:
    """SRT and VTT per native language and for the translation language, on the compiled
    timeline (identical in every format, so the first format's cues are used)."""
    tl = Timeline.of(segments)
    per_language: dict[str, list[tuple[float, captions.Cue]]] = {}
    translation_cues: list[tuple[float, captions.Cue]] = []
    for spec in good:
        offset = tl.clip_start(spec.index)
        for cue in cues[(spec.index, primary)]:
            per_language.setdefault(spec.language, []).append((offset, cue))
            if _same_language(spec.language, campaign.translation_language):
                translation_cues.append((offset, cue))
            else:
                translation_cues.append((offset, captions.Cue(
                    cue.start, cue.end, cue.translation_lines, (), cue.sentences)))
    subtitle_sets = {lang: _subtitle_entries(items, "native")
                     for lang, items in per_language.items()}
    translation_entries = _subtitle_entries(translation_cues, "native")
    if translation_entries:
        subtitle_sets[campaign.translation_language] = translation_entries
    outputs = []
    for lang, entries in subtitle_sets.items():
        for ext, writer in (("srt", captions.write_srt), ("vtt", captions.write_vtt)):
            rel = f"subtitles/{lang}.{ext}"
            if write_text_atomic(outdir / rel, writer(entries)):
                written.append(rel)
            outputs.append(rel)
    return outputs


def _cut_warnings(outdir: Path, outputs: list[str],
                  timelines: dict[str, list[Segment]]) -> list[str]:
    """Cuts over WhatsApp's 16 MB a minute (the encoder's bitrate cap should prevent it)."""
    warnings = []
    for rel in outputs:
        if rel.startswith("cuts/"):
            language, fmt = rel[5:-4].rsplit("-", 1)
            size = (outdir / rel).stat().st_size
            minutes = cut_for_language(timelines[fmt], language).duration / 60
            if size > WHATSAPP_BYTES_PER_MINUTE * max(minutes, 1 / 60):
                warnings.append(f"{rel} is {size / 1e6:.1f} MB for {minutes:.2f} min, "
                                "over WhatsApp's 16 MB a minute")
    return warnings


def _report(campaign: Campaign, names: Sequence[str], good: Sequence[ClipSpec],
            prepared: dict[int, PreparedClip], cues: dict[tuple[int, str], list[captions.Cue]],
            problems: Sequence[ClipProblem], finals: dict[str, Any], outputs: list[str],
            warnings: list[str]) -> dict[str, Any]:
    """The render report: versioned schema, no wall-clock values (so it is reproducible)."""
    clips = []
    for spec in good:
        p = prepared[spec.index]
        name = language_name(spec.language, spec.language_name)
        clips.append({
            "index": spec.index,
            "file": str(spec.file.name),
            "language": spec.language,
            "language_name": {"native": name.native, "english": name.english},
            "speaker": spec.speaker,
            "role": spec.role,
            "input": p.info,
            "source_sha256": p.source_sha256,
            "trim": {"start": p.trim_start, "end": p.trim_end, "auto": p.trim_auto},
            "duration": round(p.duration, 3),
            "loudness": {"before": p.loudness_before, "after": p.loudness_after},
            "cues": {n: [_cue_dict(c) for c in cues[(spec.index, n)]] for n in names},
            "warnings": list(p.warnings),
        })
    return {
        "schema": REPORT_SCHEMA,
        "title": campaign.title,
        "language": campaign.language,
        "translation_language": campaign.translation_language,
        "formats": list(names),
        "loudness_target": {"integrated": campaign.loudness_target, "true_peak_max": -1.0},
        "videos": finals,
        "clips": clips,
        "skipped": [{"index": p.index, "file": p.file, "code": p.code, "message": p.message}
                    for p in problems],
        "outputs": sorted(outputs),
        "warnings": list(campaign.warnings) + warnings,
    }
