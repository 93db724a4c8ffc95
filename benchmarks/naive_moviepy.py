"""The naive way to compile a campaign with moviepy 2.x, as a reference for the benchmark.

    .venv/bin/pip install -e '.[bench]'        # moviepy: not in Chorus's dependencies
    python benchmarks/naive_moviepy.py CAMPAIGN.yaml OUT.mp4 [--threads N]

What a first attempt would do: open each clip with ``VideoFileClip``, resize it to 1080 lines
and centre it on a 1920x1080 canvas, lay ``TextClip`` captions (one per sentence, spread
evenly over the clip) and a name line over it with ``CompositeVideoClip``, join everything
with ``concatenate_videoclips`` and write it with ``write_videofile`` (libx264 veryfast CRF 23,
AAC 128k). No loudness matching, no speech detection, no trims: it does LESS than
``chorus compile`` and is still much slower and hungrier (see benchmarks/README.md).

moviepy runs its own ffmpeg on whatever it is given, and MediaRecorder WebM (no duration, no
cues) breaks ``VideoFileClip``; so, as the project's rules demand, moviepy only ever sees
intermediates: stream-copy remuxes made through ``workers.media.ffmpeg`` (the safe gate).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workers.media import ffmpeg
from workers.media.campaign_file import load_campaign
from workers.media.fonts import font_for

W, H, FPS = 1920, 1080, 30


def remux(source: Path, workdir: Path, n: int) -> Path:
    """A stream-copy remux of an uploaded clip (fixes MediaRecorder WebM's missing header)."""
    family = ffmpeg.sniff_container(source).family
    out = workdir / f"clip{n:02d}.{'mkv' if family == 'matroska' else 'mov'}"
    ffmpeg.run([*ffmpeg.untrusted_input(source), "-map", "0:v:0", "-map", "0:a:0",
                "-c", "copy", "-map_metadata", "-1", "-y", str(out)],
               timeout=300, what="remux for moviepy", subject=str(source))
    return out


def build(campaign_path: Path, workdir: Path) -> Any:
    """The whole programme as one moviepy clip."""
    from moviepy import CompositeVideoClip, TextClip, VideoFileClip, concatenate_videoclips

    campaign = load_campaign(campaign_path).campaign
    parts = []
    for spec in campaign.clips:
        video = VideoFileClip(str(remux(spec.file, workdir, spec.index)))
        video = video.resized(height=H)
        if video.w > W:
            video = video.resized(width=W)
        layers = [video.with_position("center")]
        font = font_for(" ".join(spec.sentences), spec.language)
        name = font_for(spec.speaker)
        layers.append(
            TextClip(font=name.path, text=f"{spec.speaker} — {spec.role}", font_size=40,
                     color="white", bg_color="#1d3557", margin=(16, 8))
            .with_position((80, 80)).with_start(0.4).with_duration(min(5.1, video.duration - 0.4)))
        share = video.duration / max(1, len(spec.sentences))
        for i, sentence in enumerate(spec.sentences):
            layers.append(
                TextClip(font=font.path, text=sentence, font_size=56, color="white",
                         stroke_color="black", stroke_width=2, method="caption",
                         size=(W - 240, None), text_align="center")
                .with_position(("center", H - 260)).with_start(i * share)
                .with_duration(share))
        parts.append(CompositeVideoClip(layers, size=(W, H), bg_color=(29, 53, 87))
                     .with_duration(video.duration))
    return concatenate_videoclips(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("campaign", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="x264 threads (default: the cores)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("moviepy") is None:
        # Chorus never uses moviepy (nor the ffmpeg binary it bundles): only this reference does.
        raise SystemExit("moviepy is not installed; it is the `bench` extra: "
                         ".venv/bin/pip install -e '.[bench]'")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="naive-moviepy.") as tmp:
        programme = build(args.campaign, Path(tmp))
        programme.write_videofile(
            str(args.out), fps=FPS, codec="libx264", preset="veryfast",
            ffmpeg_params=["-crf", "23", "-pix_fmt", "yuv420p"], audio_codec="aac",
            audio_bitrate="128k", threads=args.threads, logger=None)
        programme.close()
    print(f"naive moviepy: {programme.duration:.1f} s of video in "
          f"{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
