"""Render segments and join them without re-encoding.

Every segment (intro card, each clip, outro card) is encoded ONCE, with identical encoder
settings, into a MOV holding H.264 video and PCM audio that is exactly as long as the video
(a whole number of frames; MEDIA-NOTES: "Segment lengths"). Joining is then a stream copy of
the video, and the only audio encode (AAC) happens once, at the join (MEDIA-NOTES: "A/V drift
when joining AAC segments"). A short dip to the brand colour is baked into each segment's ends
because a crossfade cannot be stream-copied.

The H.264 settings cap the bitrate so that the per-language cuts, which are stream copies of
the same segments, stay under WhatsApp's 16 MB a minute.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workers.media import ffmpeg
from workers.media.cache import public_mode
from workers.media.style import FPS, SAMPLE_RATE, SAMPLES_PER_FRAME, Brand, Frame

if TYPE_CHECKING:
    from workers.media.cards import Overlay


@dataclass(frozen=True)
class EncoderSettings:
    """The one set of video settings every segment shares (so segments join by stream copy)."""

    preset: str = "veryfast"
    crf: int = 23
    maxrate_kbps: int = 1800
    bufsize_kbps: int = 3600
    profile: str = "high"
    level: str = "4.1"
    gop_frames: int = 60
    audio_bitrate_kbps: int = 128

    def video_args(self) -> list[str]:
        return [
            "-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf),
            "-maxrate", f"{self.maxrate_kbps}k", "-bufsize", f"{self.bufsize_kbps}k",
            "-profile:v", self.profile, "-level:v", self.level, "-pix_fmt", "yuv420p",
            "-g", str(self.gop_frames), "-keyint_min", str(self.gop_frames),
            "-sc_threshold", "0", "-r", str(FPS),
        ]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


ENCODER = EncoderSettings()

#: Seconds of the dip to the brand colour at each end of every segment.
DIP_SECONDS = 0.2

#: Segments: H.264 + PCM in MOV, no metadata from inputs, timestamps from zero.
_SEGMENT_TAIL = [
    "-c:a", "pcm_s16le", "-ar", str(SAMPLE_RATE), "-ac", "2",
    "-map_metadata", "-1", "-map_chapters", "-1", "-dn", "-sn",
    "-video_track_timescale", str(FPS * 512),
    "-f", "mov",
]


def dip_filters(frames: int, colour: str) -> str:
    """The dip to the brand colour at both ends, as a filter chain (no labels).

    One ``drawbox`` fill per dipped frame with a falling (rising) opacity, each enabled on
    its one frame only: a filter whose ``enable`` is false is skipped, so the other frames
    cost nothing. (ffmpeg's ``fade`` filter added ~40% to a segment's render time here,
    although it changes only six frames.)
    """
    steps = min(round(DIP_SECONDS * FPS), frames // 2)
    boxes = []
    for k in range(steps):
        opacity = round(1 - k / steps, 3)
        box = f"drawbox=x=0:y=0:w=iw:h=ih:t=fill:color={colour}@{opacity}"
        boxes.append(f"{box}:enable='eq(n,{k})'")
        boxes.append(f"{box}:enable='eq(n,{frames - 1 - k})'")
    return ",".join(boxes) if boxes else "null"


def frames_for(seconds: float) -> int:
    """Whole output frames for a duration (at least one)."""
    return max(1, round(seconds * FPS))


@dataclass(frozen=True)
class TimedOverlay:
    """An image laid over a segment between two times (seconds from the segment's start)."""

    overlay: Overlay
    start: float
    end: float


def _atomic_target(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    return Path(tmp)


def _finish(tmp: Path, out: Path) -> Path:
    os.chmod(tmp, public_mode())
    os.replace(tmp, out)
    return out


def fit_filter(frame: Frame, src_w: int, src_h: int, *, fill: str, brand: Brand) -> str:
    """Fit a picture into the frame without stretching or cropping faces.

    Same shape (within 2%): scale to fill. Otherwise the picture is scaled to fit whole and
    the rest is filled either with a blurred, enlarged copy of itself (``fill="blur"``; the
    blur runs on a 1/8-size copy so it costs little) or with the brand colour.
    Input label ``[v]``, output label ``[fit]``.
    """
    W, H = frame.width, frame.height
    if src_w > 0 and src_h > 0 and abs((src_w / src_h) / (W / H) - 1) < 0.02:
        return f"[v]scale={W}:{H}:flags=bicubic,setsar=1[fit]"
    fg = f"scale={W}:{H}:force_original_aspect_ratio=decrease:flags=bicubic,setsar=1"
    if fill == "colour":
        return (f"[v]{fg},pad={W}:{H}:(ow-iw)/2:(oh-ih)/2:color={brand.ffmpeg_colour()}"
                f",setsar=1[fit]")
    w8, h8 = W // 8, H // 8
    return (
        f"[v]split=2[bgsrc][fgsrc];"
        f"[bgsrc]scale={w8}:{h8}:force_original_aspect_ratio=increase,crop={w8}:{h8},"
        f"boxblur=8:2,eq=brightness=-0.08,scale={W}:{H}:flags=bilinear,setsar=1[bg];"
        f"[fgsrc]{fg}[fg];"
        f"[bg][fg]overlay=(W-w)/2:(H-h)/2[fit]"
    )


def render_clip_segment(
    *,
    source: Path,
    trim_start: float,
    frames: int,
    audio_wav: Path,
    frame: Frame,
    src_size: tuple[int, int],
    brand: Brand,
    overlays: Sequence[TimedOverlay],
    out: Path,
    fill: str = "blur",
    encoder: EncoderSettings = ENCODER,
    timeout: float = 1800,
    progress: ffmpeg.ProgressCallback | None = None,
) -> Path:
    """Render one clip as a finished segment for one output format.

    ``source`` is the uploaded original (opened through the safe input path, seeking to the
    trim); ``audio_wav`` is our loudness-normalised audio of exactly ``frames`` frames.
    Video is forced to constant 30 fps from reset timestamps (phones record variable frame
    rate, WebM may start at -7 ms), padded by cloning the last frame if it runs short, and cut
    to exactly ``frames`` frames so sound and picture stay in step across joins.
    """
    duration = frames / FPS
    args: list[str] = [
        *ffmpeg.untrusted_input(source, seek=trim_start, duration=duration + 0.5),
        *ffmpeg.trusted_input(audio_wav),
    ]
    for item in overlays:
        args += ffmpeg.trusted_input(item.overlay.path)
    chains = [
        f"[0:v:0]setpts=PTS-STARTPTS,fps={FPS},tpad=stop_mode=clone:stop_duration=2[v]",
        fit_filter(frame, src_size[0], src_size[1], fill=fill, brand=brand),
    ]
    last = "fit"
    for n, item in enumerate(overlays):
        label = f"o{n}"
        o = item.overlay
        chains.append(
            f"[{last}][{n + 2}:v]overlay={o.x}:{o.y}:eof_action=repeat:"
            f"enable='between(t,{item.start:.3f},{item.end:.3f})'[{label}]"
        )
        last = label
    colour = brand.ffmpeg_colour()
    fade_out = max(0.0, duration - DIP_SECONDS)
    chains.append(
        f"[{last}]format=yuv420p,setpts=PTS-STARTPTS,{dip_filters(frames, colour)},"
        f"trim=end_frame={frames},setpts=PTS-STARTPTS[vout]"
    )
    samples = frames * SAMPLES_PER_FRAME
    chains.append(
        f"[1:a:0]aresample={SAMPLE_RATE},apad=whole_len={samples},atrim=end_sample={samples},"
        f"afade=t=in:st=0:d={DIP_SECONDS},afade=t=out:st={fade_out:.4f}:d={DIP_SECONDS},"
        f"asetpts=N/SR/TB[aout]"
    )
    tmp = _atomic_target(out)
    try:
        ffmpeg.run(
            [*args, "-filter_complex", ";".join(chains), "-map", "[vout]", "-map", "[aout]",
             *encoder.video_args(), *_SEGMENT_TAIL, "-y", str(tmp)],
            timeout=timeout, what="render clip segment", subject=str(source),
            progress=progress,
        )
        return _finish(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def render_card_segment(
    *,
    card_png: Path,
    frames: int,
    brand: Brand,
    out: Path,
    encoder: EncoderSettings = ENCODER,
    timeout: float = 600,
) -> Path:
    """Render an intro/outro card (a still picture with silence) as a segment."""
    samples = frames * SAMPLES_PER_FRAME
    colour = brand.ffmpeg_colour()
    # The PNG is decoded once and repeated by the loop filter (cheaper than `-loop 1`,
    # which decodes it again for every frame).
    args = [
        *ffmpeg.trusted_input(card_png),
        "-f", "lavfi", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=stereo",
        "-filter_complex",
        f"[0:v]format=yuv420p,loop=loop={frames - 1}:size=1:start=0,setpts=N/{FPS}/TB,"
        f"{dip_filters(frames, colour)},"
        f"trim=end_frame={frames},setpts=PTS-STARTPTS[vout];"
        f"[1:a]atrim=end_sample={samples},asetpts=N/SR/TB[aout]",
        "-map", "[vout]", "-map", "[aout]",
    ]
    tmp = _atomic_target(out)
    try:
        ffmpeg.run([*args, *encoder.video_args(), *_SEGMENT_TAIL, "-y", str(tmp)],
                   timeout=timeout, what="render card segment", subject=str(card_png))
        return _finish(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def join_segments(
    segments: Sequence[Path],
    out: Path,
    *,
    encoder: EncoderSettings = ENCODER,
    timeout: float = 900,
    progress: ffmpeg.ProgressCallback | None = None,
) -> Path:
    """Join prepared segments into one MP4: video by stream copy, audio encoded once to AAC.

    The result has its moov atom at the front (fast start) and carries no metadata from the
    inputs (no GPS, device or creation tags): ``-map_metadata -1`` plus bitexact flags.
    """
    if not segments:
        raise ValueError("nothing to join")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, list_name = tempfile.mkstemp(prefix=".concat.", suffix=".txt", dir=out.parent)
    list_path = Path(list_name)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("ffconcat version 1.0\n")
        for seg in segments:
            escaped = str(Path(seg).resolve()).replace("'", "'\\''")
            fh.write(f"file '{escaped}'\n")
    tmp = _atomic_target(out)
    try:
        ffmpeg.run(
            ["-f", "concat", "-safe", "0", *ffmpeg.trusted_input(list_path),
             "-map", "0:v:0", "-map", "0:a:0", "-c:v", "copy",
             "-c:a", "aac", "-b:a", f"{encoder.audio_bitrate_kbps}k", "-ar", str(SAMPLE_RATE),
             "-ac", "2", "-map_metadata", "-1", "-map_chapters", "-1",
             "-fflags", "+bitexact", "-flags:a", "+bitexact",
             "-movflags", "+faststart", "-f", "mp4", "-y", str(tmp)],
            timeout=timeout, what="join segments", subject=str(out), progress=progress,
        )
        return _finish(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        list_path.unlink(missing_ok=True)


def extract_poster(video: Path, at_seconds: float, out: Path, *, timeout: float = 120) -> Path:
    """Write one frame of a compiled video as a JPEG poster (no metadata)."""
    tmp = _atomic_target(out)
    try:
        ffmpeg.run(
            ["-ss", f"{max(0.0, at_seconds):.3f}", *ffmpeg.trusted_input(video),
             "-frames:v", "1", "-q:v", "3", "-map_metadata", "-1", "-fflags", "+bitexact",
             "-f", "image2", "-update", "1", "-y", str(tmp)],
            timeout=timeout, what="extract poster", subject=str(video),
        )
        return _finish(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
