"""Render segments and join them without re-encoding anything.

Every segment (intro card, each clip, outro card) is encoded ONCE, with identical encoder
settings, into a MOV holding H.264 video and AAC audio; the programme and every per-language
cut are stream copies of those segments, sound included. A short dip to the brand colour (and
to silence) is baked into each segment's ends because a crossfade cannot be stream-copied.

Gapless AAC joins (MEDIA-NOTES: "A/V drift when joining AAC segments"). An AAC packet is 1024
samples; a frame of picture is 1600. The encoder turns N samples into ``ceil(N/1024) + 1``
packets: packet 0 is the encoder's priming (1024 samples of delay) and the last one holds
the padding. Each segment's sound therefore starts and ends with :data:`AUDIO_MARGIN` (1024)
samples of digital silence, which makes its first and last packet pure silence and the
packets between them (its *core*) independent of what is decoded before or after. The join
(:func:`splice_audio`) lays the cores one after the other and, between two cores, puts 0, 1
or 2 of the silent packets so that each core starts within ±512 samples (±10.7 ms) of its
picture: the error never adds up from join to join, and the decoded sound of each segment is
bit-identical to the segment decoded alone (except the random fill of AAC's noise
substitution). Sample-exact placement would need every segment to be a multiple of 16
frames (25600 samples), or multi-entry MP4 edit lists that players do not honour.

The H.264 settings cap the bitrate so that the per-language cuts, which are stream copies of
the same segments, stay under WhatsApp's 16 MB a minute.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from workers.media import ffmpeg
from workers.media.cache import public_mode
from workers.media.errors import MediaError
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

    def audio_args(self) -> list[str]:
        return ["-c:a", "aac", "-b:a", f"{self.audio_bitrate_kbps}k",
                "-ar", str(SAMPLE_RATE), "-ac", "2"]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


ENCODER = EncoderSettings()

#: Seconds of the dip to the brand colour at each end of every segment.
DIP_SECONDS = 0.2

#: Silent samples at each end of every segment's sound (one AAC packet; see above).
AUDIO_MARGIN = 1024
#: Samples in one AAC packet.
AAC_PACKET = 1024

#: Encoder threads per segment. Segments are rendered ``jobs`` at a time, so x264's default
#: (1.5 frame threads per core plus lookahead) oversubscribes the cores: measured on one
#: 720p clip to 1080p here, 4.87 CPU-s with the default, 4.18 with 2 threads (and less wall
#: time), 3.80 with 1 (but 16% more wall time for a lone segment). The picture is the same
#: quality (x264's threads change how, not what, it encodes).
SEGMENT_THREADS = 2

#: Segments: H.264 + AAC (copied from the segment's ADTS) in MOV, no metadata from inputs,
#: timestamps from zero.
_SEGMENT_TAIL = [
    "-threads", str(SEGMENT_THREADS),
    "-c:a", "copy",
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


# ---------------------------------------------------------------------------- sound

Samples = npt.NDArray[np.float32]  # shape (n, 2)


def dip_audio(x: Samples) -> Samples:
    """The segment's sound with its ends dipped: :data:`AUDIO_MARGIN` samples of silence,
    then a linear fade over :data:`DIP_SECONDS` in, and the same mirrored at the end."""
    y = np.array(x, dtype=np.float32, copy=True)
    n = len(y)
    margin = min(AUDIO_MARGIN, n // 2)
    fade = max(0, min(round(DIP_SECONDS * SAMPLE_RATE), n // 2 - margin))
    ramp = (np.arange(1, fade + 1, dtype=np.float32) / (fade + 1))[:, None]
    y[:margin] = 0
    y[n - margin:] = 0
    y[margin:margin + fade] *= ramp
    y[n - margin - fade:n - margin] *= ramp[::-1]
    return y


def encode_audio(x: Samples, out: Path, *, encoder: EncoderSettings | None = None,
                 timeout: float = 300) -> Path:
    """Encode a segment's sound (48 kHz stereo, float) to AAC in an ADTS file, whole."""
    encoder = encoder or ENCODER
    out.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.clip(np.asarray(x, dtype=np.float32), -1.0, 32767 / 32768)
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".wav", dir=out.parent)
    os.close(fd)
    wav_path = Path(name)
    tmp = _atomic_target(out)
    try:
        with wave.open(str(wav_path), "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(SAMPLE_RATE)
            wav.writeframes(np.round(pcm * 32768).astype("<i2").tobytes())
        ffmpeg.run([*ffmpeg.trusted_input(wav_path), "-map", "0:a:0", *encoder.audio_args(),
                    "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
                    "-f", "adts", "-y", str(tmp)],
                   timeout=timeout, what="encode sound", subject=str(out))
        return _finish(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        wav_path.unlink(missing_ok=True)


def decode_audio(adts: Path, samples: int, *, timeout: float = 300) -> Samples:
    """Decode a segment's ADTS back to its ``samples`` samples (priming skipped)."""
    done = ffmpeg.run([*ffmpeg.trusted_input(adts, fmt="aac"), "-map", "0:a:0",
                       "-f", "f32le", "-ac", "2", "-ar", str(SAMPLE_RATE), "pipe:1"],
                      timeout=timeout, what="decode sound", subject=str(adts),
                      capture_stdout=True)
    data = np.frombuffer(done.stdout, dtype="<f4").reshape(-1, 2)
    return np.ascontiguousarray(data[AAC_PACKET:AAC_PACKET + samples])


def adts_packets(data: bytes) -> list[bytes]:
    """Split an ADTS stream into its packets (each with its 7- or 9-byte header)."""
    packets = []
    at = 0
    while at + 7 <= len(data):
        if data[at] != 0xFF or (data[at + 1] & 0xF6) != 0xF0:
            raise MediaError("damaged AAC stream (no ADTS sync word)", code="bad_intermediate")
        length = ((data[at + 3] & 0x03) << 11) | (data[at + 4] << 3) | (data[at + 5] >> 5)
        if length < 7 or at + length > len(data):
            raise MediaError("damaged AAC stream (bad ADTS length)", code="bad_intermediate")
        packets.append(data[at:at + length])
        at += length
    return packets


def samples_for_packets(count: int) -> int:
    """The segment length (samples) that the encoder turned into ``count`` packets.

    ``count = ceil(N / 1024) + 1`` and N is a whole number of frames (1600 samples): one
    interval of 1024 holds at most one multiple of 1600, so N is known from the count.
    """
    high = (count - 1) * AAC_PACKET
    n = high // SAMPLES_PER_FRAME * SAMPLES_PER_FRAME
    if count < 2 or n <= high - AAC_PACKET:
        raise MediaError(f"segment sound of {count} AAC packets is not a whole number of "
                         "frames", code="bad_intermediate")
    return n


def splice_audio(segments: Sequence[Sequence[bytes]]) -> tuple[bytes, list[int]]:
    """Join segments' AAC packets gaplessly (see the module's docstring).

    Returns the ADTS stream and, per segment, where its sound starts relative to its
    picture, in samples (always within ±512).
    """
    out: list[bytes] = []
    errors: list[int] = []
    picture = 0  # where the segment's picture starts (samples)
    placed = 0  # packets laid so far
    for n, packets in enumerate(segments):
        if len(packets) < 3:
            raise MediaError("segment sound too short to join", code="bad_intermediate")
        if n:
            spare = [segments[n - 1][-1], packets[0]]
            gap = min((0, 1, 2), key=lambda g: abs((placed + g) * AAC_PACKET - picture))
            out += spare[2 - gap:]
            placed += gap
        errors.append(placed * AAC_PACKET - picture)
        core = packets[1:-1]
        out += core
        placed += len(core)
        picture += samples_for_packets(len(packets))
    out.append(segments[-1][-1])  # the last segment's silent tail
    return b"".join(out), errors


def segment_audio(segment: Path, *, timeout: float = 120) -> list[bytes]:
    """A segment's AAC packets: from the ADTS beside it, else copied out of the MOV (and
    kept beside it), e.g. when the segment came from the object store alone."""
    side = segment.with_suffix(".aac")
    if not side.exists():
        tmp = _atomic_target(side)
        try:
            ffmpeg.run([*ffmpeg.trusted_input(segment), "-map", "0:a:0", "-c:a", "copy",
                        "-f", "adts", "-y", str(tmp)],
                       timeout=timeout, what="copy segment sound", subject=str(segment))
            _finish(tmp, side)
        finally:
            tmp.unlink(missing_ok=True)
    return adts_packets(side.read_bytes())


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
    audio: Path,
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
    trim); ``audio`` is the clip's prepared sound (AAC in ADTS, dipped, loudness-normalised,
    exactly ``frames`` frames long), copied into the segment and kept beside it for joins.
    Video is forced to constant 30 fps from reset timestamps (phones record variable frame
    rate, WebM may start at -7 ms), padded by cloning the last frame if it runs short, and cut
    to exactly ``frames`` frames so sound and picture stay in step across joins.
    """
    duration = frames / FPS
    args: list[str] = [
        *ffmpeg.untrusted_input(source, seek=trim_start, duration=duration + 0.5),
        *ffmpeg.trusted_input(audio, fmt="aac"),
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
    chains.append(
        f"[{last}]format=yuv420p,setpts=PTS-STARTPTS,{dip_filters(frames, colour)},"
        f"trim=end_frame={frames},setpts=PTS-STARTPTS[vout]"
    )
    _check_audio(audio, frames)
    tmp = _atomic_target(out)
    try:
        ffmpeg.run(
            [*args, "-filter_complex", ";".join(chains), "-map", "[vout]", "-map", "1:a:0",
             *encoder.video_args(), *_SEGMENT_TAIL, "-y", str(tmp)],
            timeout=timeout, what="render clip segment", subject=str(source),
            progress=progress,
        )
        _keep_audio_beside(audio, out)
        return _finish(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _check_audio(audio: Path, frames: int) -> None:
    """The prepared sound must be exactly the segment's length (or joins would drift)."""
    count = len(adts_packets(audio.read_bytes()))
    if samples_for_packets(count) != frames * SAMPLES_PER_FRAME:
        raise MediaError(f"the prepared sound ({count} AAC packets) is not {frames} frames "
                         "long", code="bad_intermediate", subject=str(audio))


def _keep_audio_beside(audio: Path, segment: Path) -> None:
    """Copy the segment's ADTS next to it (what :func:`segment_audio` reads)."""
    side = segment.with_suffix(".aac")
    if audio.resolve() == side.resolve():
        return
    tmp = _atomic_target(side)
    try:
        shutil.copyfile(audio, tmp)
        _finish(tmp, side)
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
    colour = brand.ffmpeg_colour()
    silence = out.with_suffix(".aac")
    encode_audio(np.zeros((frames * SAMPLES_PER_FRAME, 2), dtype=np.float32), silence,
                 encoder=encoder)
    # The PNG is decoded once and repeated by the loop filter (cheaper than `-loop 1`,
    # which decodes it again for every frame).
    args = [
        *ffmpeg.trusted_input(card_png),
        *ffmpeg.trusted_input(silence, fmt="aac"),
        "-filter_complex",
        f"[0:v]format=yuv420p,loop=loop={frames - 1}:size=1:start=0,setpts=N/{FPS}/TB,"
        f"{dip_filters(frames, colour)},"
        f"trim=end_frame={frames},setpts=PTS-STARTPTS[vout]",
        "-map", "[vout]", "-map", "1:a:0",
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
    """Join rendered segments into one MP4 by stream copy, picture and sound.

    The sound is the segments' AAC packets spliced gaplessly (:func:`splice_audio`); nothing
    is encoded again, so a programme and its per-language cuts share every segment's work.
    The result has its moov atom at the front (fast start) and carries no metadata from the
    inputs (no GPS, device or creation tags): ``-map_metadata -1`` plus bitexact flags.
    """
    del encoder  # the segments carry the encoding; kept so callers need not change
    if not segments:
        raise ValueError("nothing to join")
    out.parent.mkdir(parents=True, exist_ok=True)
    packets = [segment_audio(Path(seg)) for seg in segments]
    sound, _ = splice_audio(packets)
    fd, list_name = tempfile.mkstemp(prefix=".concat.", suffix=".txt", dir=out.parent)
    list_path = Path(list_name)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("ffconcat version 1.0\n")
        for seg, its in zip(segments, packets, strict=True):
            escaped = str(Path(seg).resolve()).replace("'", "'\\''")
            # The picture's length, not the file's: its sound runs up to 2 packets longer.
            frames = samples_for_packets(len(its)) // SAMPLES_PER_FRAME
            fh.write(f"file '{escaped}'\nduration {frames / FPS:.6f}\n")
    fd, sound_name = tempfile.mkstemp(prefix=".sound.", suffix=".aac", dir=out.parent)
    sound_path = Path(sound_name)
    with os.fdopen(fd, "wb") as fh:
        fh.write(sound)
    tmp = _atomic_target(out)
    try:
        ffmpeg.run(
            ["-f", "concat", "-safe", "0", *ffmpeg.trusted_input(list_path),
             *ffmpeg.trusted_input(sound_path, fmt="aac"),
             "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
             "-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact",
             "-movflags", "+faststart", "-f", "mp4", "-y", str(tmp)],
            timeout=timeout, what="join segments", subject=str(out), progress=progress,
        )
        return _finish(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        list_path.unlink(missing_ok=True)
        sound_path.unlink(missing_ok=True)


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
