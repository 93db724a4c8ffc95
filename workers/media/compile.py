"""Compile a campaign: clips in, captioned, loudness-matched videos and their companions out.

The engine's API, in the order of work (``chorus compile`` runs it in one process, the
workers' stages call the same functions one clip or one join at a time):

1. :func:`prepare` one clip (probe, validate, speech, trim, loudness; cached by content).
   Every clip is prepared before anything is rendered, so every bad clip is listed at once.
2. :func:`~workers.media.segments.plan_segments`: each format's segments, keyed by content,
   and the ones still missing (from the local folder and the :class:`SegmentStore`).
3. :func:`~workers.media.segments.render_segments`: render the missing ones, ``jobs`` at a
   time (:func:`render_clip` does it for one clip).
4. :func:`~workers.media.assemble.assemble`: join by stream copy into the fixed outputs
   (:mod:`workers.media.outputs`); an output whose inputs have not changed is left untouched.

Pure media code: paths and dataclasses in, paths and a result out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from workers.media import ffmpeg, fonts, loudness, probe
from workers.media.assemble import CompileResult, assemble
from workers.media.cache import HashCache
from workers.media.campaign import Campaign, ClipSpec
from workers.media.errors import MediaError
from workers.media.languages import language_name
from workers.media.prepare import ClipProblem, PreparedClip, clip_label, prepare_clip
from workers.media.progress import Progress, ProgressSink
from workers.media.segments import (
    CompileError,
    SegmentStore,
    plan_segments,
    render_segments,
    resolve_formats,
)
from workers.media.timeline import Segment

__all__ = ["CompileError", "CompileResult", "compile_campaign", "prepare", "render_clip"]


def prepare(campaign: Campaign, spec: ClipSpec, *, cache_dir: Path,
            policy: probe.Policy | None = None, hashes: HashCache | None = None
            ) -> PreparedClip:
    """Prepare one clip: probe, validate, trim and normalise its sound (cached by content).

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


def render_clip(campaign: Campaign, prepared: PreparedClip, formats: Sequence[str], *,
                cache_dir: Path, progress: ProgressSink | None = None,
                store: SegmentStore | None = None) -> list[Segment]:
    """One clip's segment in every format, rendered unless the folder or ``store`` has it."""
    index = prepared.spec.index
    plan = plan_segments(campaign, {index: prepared}, formats, cache_dir=cache_dir,
                         clips=[index], cards_too=False, store=store)
    render_segments(plan, jobs=1, progress=progress, store=store)
    return plan.clip_segments(index)


def _drawn_texts(campaign: Campaign, spec: ClipSpec) -> list[tuple[str, str | None]]:
    """Every text a clip's segment draws, with its language: checked before work is spent
    on the clip, so a text no installed font can draw makes it a bad clip like any other."""
    name = language_name(spec.language, spec.language_name)
    return [*((t, spec.language) for t in spec.sentences),
            *((t, campaign.translation_language) for t in spec.translation or ()),
            (name.native, spec.language), (name.english, "en"),
            (spec.speaker, spec.language), (spec.role, spec.language)]


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
    """Compile ``campaign`` into ``outdir`` (cache: ``cache_dir``, else ``outdir/.cache``).

    Raises :class:`CompileError` listing bad clips (unless ``skip_bad``: they are left out
    and listed in the report), or :class:`MediaError` for problems with the tools or fonts.
    """
    ffmpeg.require_tools()
    fonts.require_shaping()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cache = Path(cache_dir) if cache_dir else outdir / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    hashes = HashCache(cache / "hashes.json")
    jobs = max(1, jobs or os.cpu_count() or 1)
    names = resolve_formats(formats, campaign.formats)
    tracker = Progress(progress)
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
