"""What a clip is: ffprobe's answer as frozen dataclasses, and the policy that judges it.

``parse_probe`` is a pure function of ffprobe's JSON so it can be tested on captured output;
``probe`` runs ffprobe through the safe wrapper and, when the container does not say how long
the clip is (MediaRecorder WebM has no duration in its header), measures it by reading the
packets once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from workers.media import ffmpeg
from workers.media.errors import FFmpegError, MediaError


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int  # as stored
    height: int
    rotation: int  # degrees clockwise to display upright: 0, 90, 180, 270
    fps: float  # average frame rate
    variable_frame_rate: bool
    pix_fmt: str

    @property
    def display_width(self) -> int:
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation in (90, 270) else self.height

    @property
    def orientation(self) -> str:
        w, h = self.display_width, self.display_height
        return "landscape" if w > h else "portrait" if h > w else "square"


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int
    layout: str


@dataclass(frozen=True)
class MediaInfo:
    path: str
    format_name: str
    size_bytes: int
    duration: float
    duration_from_header: bool
    video: VideoInfo | None
    audio: AudioInfo | None
    stream_count: int = 0

    def summary(self) -> dict[str, Any]:
        """A plain dict for reports."""
        out: dict[str, Any] = {
            "container": self.format_name,
            "size_bytes": self.size_bytes,
            "duration": round(self.duration, 3),
        }
        if self.video:
            out["video"] = {
                "codec": self.video.codec,
                "width": self.video.width,
                "height": self.video.height,
                "rotation": self.video.rotation,
                "fps": round(self.video.fps, 3),
                "variable_frame_rate": self.video.variable_frame_rate,
            }
        if self.audio:
            out["audio"] = {
                "codec": self.audio.codec,
                "sample_rate": self.audio.sample_rate,
                "channels": self.audio.channels,
            }
        return out


@dataclass(frozen=True)
class Policy:
    """Limits on what an uploaded clip may be. Defaults suit a phone recording of a message."""

    min_duration: float = 1.0
    max_duration: float = 180.0
    max_bytes: int = 1024**3
    max_width: int = 4096
    max_height: int = 4096
    min_lines: int = 240
    """The picture's shorter side must have at least this many lines (a 1x1 clip is not a
    recording, and upscaling a thumbnail to 1080 lines shows nobody)."""
    max_streams: int = 8
    probe_timeout: float = 60.0
    check_decoding: bool = True
    """Decode the start and the end of each stream and compare with the declared duration
    (a file cut short but whose header promises more is refused as ``truncated``)."""


@dataclass(frozen=True)
class Problem:
    """Why a clip cannot be used: a stable code and an English sentence."""

    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


def _fraction(value: object) -> float:
    try:
        frac = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(frac) if frac > 0 else 0.0


def _rotation(stream: dict[str, Any]) -> int:
    """Degrees clockwise the picture must turn to be upright.

    ffprobe reports the display matrix as ``rotation`` (counter-clockwise, e.g. -90 for a
    phone held upright) in side data; older files carry a ``rotate`` tag (clockwise).
    """
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            try:
                return round(-float(side["rotation"])) % 360
            except (TypeError, ValueError):
                continue
    tag = (stream.get("tags") or {}).get("rotate")
    if tag is not None:
        try:
            return round(float(tag)) % 360
        except ValueError:
            return 0
    return 0


def parse_probe(data: dict[str, Any], path: str, size_bytes: int) -> MediaInfo:
    """Turn ffprobe JSON into a :class:`MediaInfo` (pure; no I/O)."""
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    video = audio = None
    vstream = next((s for s in streams if s.get("codec_type") == "video"
                    and not (s.get("disposition") or {}).get("attached_pic")), None)
    astream = next((s for s in streams if s.get("codec_type") == "audio"), None)
    durations: list[float] = []
    if vstream is not None:
        avg = _fraction(vstream.get("avg_frame_rate"))
        real = _fraction(vstream.get("r_frame_rate"))
        fps = avg or real
        vfr = bool(avg and real and abs(avg - real) / real > 0.02)
        video = VideoInfo(
            codec=str(vstream.get("codec_name", "unknown")),
            width=int(vstream.get("width") or 0),
            height=int(vstream.get("height") or 0),
            rotation=_rotation(vstream),
            fps=fps,
            variable_frame_rate=vfr,
            pix_fmt=str(vstream.get("pix_fmt", "")),
        )
        durations.append(_fraction(vstream.get("duration")))
    if astream is not None:
        audio = AudioInfo(
            codec=str(astream.get("codec_name", "unknown")),
            sample_rate=int(astream.get("sample_rate") or 0),
            channels=int(astream.get("channels") or 0),
            layout=str(astream.get("channel_layout", "")),
        )
        durations.append(_fraction(astream.get("duration")))
    header = _fraction(fmt.get("duration"))
    duration = header or max(durations, default=0.0)
    return MediaInfo(
        path=path,
        format_name=str(fmt.get("format_name", "unknown")),
        size_bytes=size_bytes,
        duration=duration,
        duration_from_header=duration > 0,
        video=video,
        audio=audio,
        stream_count=len(streams),
    )


def measure_duration(path: Path, *, timeout: float = 120) -> float:
    """Read every packet once (no decoding) to learn how long a clip really is."""
    seen: list[float] = [0.0]
    ffmpeg.run(
        [*ffmpeg.untrusted_input(path), "-map", "0", "-c", "copy", "-f", "null", "-"],
        timeout=timeout,
        what="measure duration",
        subject=str(path),
        progress=seen.append,
    )
    return max(seen)


def probe(path: Path, policy: Policy | None = None) -> MediaInfo:
    """Probe an uploaded file safely; raise :class:`MediaError` if it is not usable media."""
    policy = policy or Policy()
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MediaError(f"cannot read the file ({exc.strerror})", code="unreadable",
                         subject=str(path)) from exc
    if size > policy.max_bytes:
        raise MediaError(
            f"the file is {size / 1e6:.0f} MB; the limit is {policy.max_bytes / 1e6:.0f} MB",
            code="too_large", subject=str(path))
    try:
        data = ffmpeg.ffprobe_json(path, timeout=policy.probe_timeout)
    except FFmpegError as exc:
        raise MediaError("the file is damaged or not a video ffmpeg can read",
                         code="unreadable", subject=str(path)) from exc
    info = parse_probe(data, str(path), size)
    if info.video is None and info.audio is None:
        raise MediaError("the file holds no video or audio", code="not_media",
                         subject=str(path))
    if not info.duration_from_header:
        try:
            measured = measure_duration(path, timeout=policy.probe_timeout)
        except FFmpegError as exc:
            raise MediaError("the file is damaged: its length cannot be read",
                             code="unreadable", subject=str(path)) from exc
        info = MediaInfo(**{**info.__dict__, "duration": measured})
    if policy.check_decoding and not validate(info, policy):
        check_decodes(path, info, policy)
    return info


#: How far from the declared end the last decoded picture or sound may stop (seconds).
END_TOLERANCE = 1.0
_TB = re.compile(r"#tb (\d+): (\d+)/(\d+)")


def _decoded_until(path: Path, start: float, length: float | None, streams: list[str],
                   timeout: float) -> dict[int, float]:
    """Decode ``streams`` (``-map`` specs) from ``start``; the last time reached by each output
    stream (index in ``streams``), in seconds of the file's own timeline."""
    args = [*ffmpeg.untrusted_input(path, seek=start, duration=length), "-copyts"]
    for spec in streams:
        args += ["-map", spec]
    args += ["-f", "framecrc", "-"]
    result = ffmpeg.run(args, timeout=timeout, what="decode check", subject=str(path),
                        capture_stdout=True)
    bases: dict[int, float] = {}
    until: dict[int, float] = {}
    for line in result.stdout.decode("ascii", "replace").splitlines():
        if line.startswith("#"):
            match = _TB.match(line)
            if match:
                bases[int(match[1])] = int(match[2]) / int(match[3])
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 4 or not fields[0].isdigit():
            continue
        index = int(fields[0])
        try:
            end = (int(fields[2]) + int(fields[3])) * bases.get(index, 0.0)
        except ValueError:
            continue
        until[index] = max(until.get(index, 0.0), end)
    return until


def check_decodes(path: Path, info: MediaInfo, policy: Policy) -> None:
    """Decode the first second and the last seconds of the picture and the sound.

    The header of an MP4 whose ``moov`` comes first describes every sample even when the
    file was cut short, so ffprobe alone reports the promised length. Decoding at both ends
    shows what is really there; a stream that cannot be decoded at its start, or stops well
    before the declared end, makes the file ``truncated`` (or ``unreadable``).
    """
    streams = [spec for spec, present in (("0:v:0", info.video), ("0:a:0", info.audio))
               if present is not None]
    names = ["picture" if s == "0:v:0" else "sound" for s in streams]
    timeout = policy.probe_timeout
    try:
        head = _decoded_until(path, 0.0, min(1.0, info.duration), streams, timeout)
        tail_from = max(0.0, info.duration - END_TOLERANCE - 1.0)
        tail = _decoded_until(path, tail_from, None, streams, timeout)
    except FFmpegError as exc:
        raise MediaError("the file is damaged: its picture or sound cannot be decoded",
                         code="unreadable", subject=str(path)) from exc
    for index, name in enumerate(names):
        if index not in head:
            raise MediaError(f"the file is damaged: its {name} cannot be decoded",
                             code="unreadable", subject=str(path))
        reached = tail.get(index, 0.0)
        if reached < info.duration - END_TOLERANCE:
            raise MediaError(
                f"the file is cut short: it says it lasts {info.duration:.1f} s but its "
                f"{name} stops at {max(reached, head[index]):.1f} s", code="truncated",
                subject=str(path))


def validate(info: MediaInfo, policy: Policy | None = None) -> list[Problem]:
    """Every reason this clip cannot be compiled (empty list: it can)."""
    policy = policy or Policy()
    problems: list[Problem] = []
    if info.video is None:
        problems.append(Problem("no_video", "the file has no video track"))
    elif info.video.width <= 0 or info.video.height <= 0:
        problems.append(Problem("unreadable", "the video track has no picture size"))
    elif info.video.width > policy.max_width or info.video.height > policy.max_height:
        problems.append(Problem(
            "resolution_too_high",
            f"the picture is {info.video.width}x{info.video.height}; the limit is "
            f"{policy.max_width}x{policy.max_height}",
            {"width": info.video.width, "height": info.video.height}))
    elif min(info.video.width, info.video.height) < policy.min_lines:
        problems.append(Problem(
            "resolution_too_low",
            f"the picture is {info.video.width}x{info.video.height}; it needs at least "
            f"{policy.min_lines} lines", {"width": info.video.width,
                                          "height": info.video.height}))
    if info.stream_count > policy.max_streams:
        problems.append(Problem(
            "too_many_streams",
            f"the file has {info.stream_count} streams; a recording has one picture and one "
            f"sound (at most {policy.max_streams})", {"streams": info.stream_count}))
    if info.audio is None:
        problems.append(Problem("no_audio", "the file has no sound track"))
    if info.duration < policy.min_duration:
        problems.append(Problem(
            "too_short",
            f"the clip is {info.duration:.2f} s long; it must be at least "
            f"{policy.min_duration:g} s", {"duration": info.duration}))
    elif info.duration > policy.max_duration:
        problems.append(Problem(
            "too_long",
            f"the clip is {info.duration:.0f} s long; the limit is {policy.max_duration:.0f} s",
            {"duration": info.duration}))
    return problems
