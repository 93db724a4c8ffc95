"""Assemble a compile's outputs from its segments: join, posters, cuts, subtitles, report.

Joins are stream copies of the segments in timeline order (formats differ in pixels, never
in timing, so one timeline's offsets serve every format's subtitles). An output whose inputs
have not changed since the last run is left untouched: same bytes, same modification time
(``.manifest.json`` in the output folder records what each output was made from).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workers.media import captions, loudness, render
from workers.media import outputs as names_of
from workers.media.cache import recipe_key, write_text_atomic
from workers.media.campaign import Campaign, ClipSpec
from workers.media.errors import MediaError
from workers.media.languages import language_name
from workers.media.overlays import cue_dict
from workers.media.prepare import ClipProblem, PreparedClip
from workers.media.progress import Progress, ProgressSink
from workers.media.segments import (
    CompileError,
    SegmentPlan,
    SegmentStore,
    plan_segments,
    render_segments,
)
from workers.media.timeline import Segment, Timeline, cut_for_language

REPORT_SCHEMA = "chorus.report/1"
WHATSAPP_BYTES_PER_MINUTE = 16 * 1000 * 1000


@dataclass
class CompileResult:
    """What a compile made: every output (relative names) and what this run did."""

    outdir: Path
    outputs: list[str]
    report: dict[str, Any]
    segments_rendered: int
    segments_reused: int
    outputs_written: list[str]
    skipped: list[ClipProblem] = field(default_factory=list)


class Manifest:
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


def assemble(
    campaign: Campaign,
    prepared: Mapping[int, PreparedClip],
    outdir: Path,
    *,
    formats: Sequence[str],
    cache_dir: Path,
    jobs: int = 1,
    problems: Sequence[ClipProblem] = (),
    progress: ProgressSink | Progress | None = None,
    store: SegmentStore | None = None,
    plan: SegmentPlan | None = None,
) -> CompileResult:
    """Render whatever segment is still missing, then join and write every output.

    Every clip in ``prepared`` must be renderable here if one of its segments is missing
    (its prepared sound on this machine); ``problems`` are the clips left out, listed in the
    report. An output whose inputs have not changed since the last run is left untouched.
    ``plan``: the segment plan of exactly these clips, when the caller has made it already.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    tracker = Progress.of(progress)
    good = [s for s in campaign.clips if s.index in prepared]
    if not good:
        raise CompileError(problems) if problems else MediaError(
            "the campaign has no clips", code="no_clips")
    if plan is None:
        plan = plan_segments(campaign, prepared, formats, cache_dir=cache_dir, store=store)
    names, timelines, cues = plan.names, plan.timelines, plan.cues
    rendered = render_segments(plan, jobs=jobs, progress=tracker, store=store)

    # outputs
    manifest = Manifest(outdir / ".manifest.json")
    written: list[str] = []
    outputs: list[str] = []
    finals: dict[str, Any] = {}
    for name in names:
        tracker.plan(f"join:{name}", 2.0)
    for name in names:
        segments = timelines[name]
        timeline = Timeline.of(segments)
        video = names_of.video(name)
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
        poster = names_of.poster(name)
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
            cut = names_of.cut(language, name)
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
    if write_text_atomic(outdir / names_of.REPORT,
                         json.dumps(report, ensure_ascii=False, indent=2) + "\n"):
        written.append(names_of.REPORT)
    outputs.append(names_of.REPORT)
    manifest.save()
    tracker.update("done", 1.0, stage="done")
    total = sum(len(v) for v in timelines.values())
    return CompileResult(outdir, outputs, report, rendered, total - rendered, written,
                         list(problems))


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
            if spec.translation is None:  # the clip speaks the translation language
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
            rel = names_of.subtitles(lang, ext)
            if write_text_atomic(outdir / rel, writer(entries)):
                written.append(rel)
            outputs.append(rel)
    return outputs


def _cut_warnings(outdir: Path, outputs: list[str],
                  timelines: dict[str, list[Segment]]) -> list[str]:
    """Cuts over WhatsApp's 16 MB a minute (the encoder's bitrate cap should prevent it)."""
    warnings = []
    for rel in outputs:
        parsed = names_of.parse_cut(rel)
        if parsed is not None:
            language, fmt = parsed
            size = (outdir / rel).stat().st_size
            minutes = cut_for_language(timelines[fmt], language).duration / 60
            if size > WHATSAPP_BYTES_PER_MINUTE * max(minutes, 1 / 60):
                warnings.append(f"{rel} is {size / 1e6:.1f} MB for {minutes:.2f} min, "
                                "over WhatsApp's 16 MB a minute")
    return warnings


def _report(campaign: Campaign, names: Sequence[str], good: Sequence[ClipSpec],
            prepared: Mapping[int, PreparedClip], cues: dict[tuple[int, str], list[captions.Cue]],
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
            "cues": {n: [cue_dict(c) for c in cues[(spec.index, n)]] for n in names},
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


def _programme_loudness(segments: Sequence[Segment], prepared: Mapping[int, PreparedClip],
                        video: Path) -> loudness.Loudness:
    """The joined programme's loudness from its clips' measured sound (the cards are
    silence), without decoding it; measured from the file if a clip lacks its blocks."""
    parts = [prepared[s.clip_index].measured() for s in segments if s.clip_index is not None]
    if any(p is None for p in parts):
        return loudness.measure_final(video)
    return loudness.programme_loudness(p for p in parts if p is not None)
