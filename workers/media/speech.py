"""Finding speech without a model: decode a clip's audio, gate it on energy, trim it.

Chorus needs to know where people speak for two things: trimming the dead air phones record
before and after a message, and laying caption sentences over the speech. A speech model is
overkill (and heavy); measured on espeak speech over noise, a 10 ms RMS energy gate with an
adaptive threshold (noise floor at the 10th percentile of frame energies + 12 dB) found speech
start/end within about ±12 ms, where a fixed -40 dBFS gate was off by up to 430 ms on quiet
clips and webrtcvad ended ~100 ms late (see MEDIA-NOTES.md).

Decoding goes through the one ffmpeg wrapper; :func:`read_wav` only ever reads WAV files that
:func:`extract_wav` wrote (never an upload), with the stdlib ``wave`` module and numpy.
"""

from __future__ import annotations

import itertools
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from workers.media import ffmpeg
from workers.media.errors import FFmpegError, MediaError

FloatArray = npt.NDArray[np.float32]

#: Frames quieter than this are never speech, whatever the noise floor says (dBFS).
ABSOLUTE_FLOOR_DB = -70.0
#: The gate opens this far above the noise floor (10th percentile of frame energies).
FLOOR_MARGIN_DB = 12.0
#: Shorter bursts above the gate are clicks and bumps, not speech.
MIN_BLIP = 0.08
#: Shorter gaps between bursts are the pauses inside a phrase, not between phrases.
MIN_GAP = 0.2
#: Boundaries are refined outwards while energy stays within this much of the gate.
EDGE_DROP_DB = 6.0
#: ... but by no more than this (so a noisy tail is not swallowed).
MAX_EDGE_EXTEND = 0.06
#: A clip whose loudest sample is below this is silent (dBFS).
SILENT_PEAK_DB = -50.0
#: A clip with less speech than this in total is silent for Chorus's purposes (seconds).
MIN_SPEECH = 0.3

_LAYOUTS = {1: "mono", 2: "stereo"}


def extract_wav(
    src: Path,
    out: Path,
    *,
    untrusted: bool = True,
    start: float | None = None,
    duration: float | None = None,
    rate: int = 48000,
    channels: int = 2,
    timeout: float = 300,
) -> Path:
    """Decode ``src``'s first audio stream to PCM s16le WAV at ``rate`` Hz, ``channels``.

    * The output timeline starts at 0: ``aresample=async=1:first_pts=0`` trims audio that
      starts before the clip (Opus/WebM can begin at -7 ms) and pads audio that starts late
      with silence, and fills dropouts, so sample ``n`` is at ``n / rate`` s of the clip.
    * 5.1 is downmixed and mono duplicated by ``-ac`` plus an explicit channel layout
      (``aformat``), which also covers streams whose layout the file does not name.
    * With ``duration``, the WAV holds exactly ``round(duration * rate)`` samples (padded with
      silence if the stream is short) so it lines up frame-for-frame with the picture.

    Raises :class:`MediaError` ``no_audio`` when the file has no audio stream.
    """
    if channels not in _LAYOUTS:
        raise ValueError("channels must be 1 or 2")
    inp = (ffmpeg.untrusted_input(src, seek=start, duration=duration) if untrusted
           else _trusted_input(src, start, duration))
    layout = _LAYOUTS[channels]
    filters = [
        f"aresample={rate}:async=1:first_pts=0",
        f"aformat=sample_fmts=s16:sample_rates={rate}:channel_layouts={layout}",
    ]
    if duration is not None:
        n = round(duration * rate)
        filters += [f"apad=whole_len={n}", f"atrim=end_sample={n}"]
    out.parent.mkdir(parents=True, exist_ok=True)
    args = [
        *inp,
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-af", ",".join(filters),
        "-ac", str(channels), "-ar", str(rate),
        "-c:a", "pcm_s16le", "-map_metadata", "-1", "-fflags", "+bitexact",
        "-f", "wav", "-y", str(out),
    ]
    try:
        ffmpeg.run(args, timeout=timeout, what="decode audio", subject=str(src))
    except FFmpegError as exc:
        # Decoding straight away (rather than probing first) saves a process per clip; the
        # map failing is how ffmpeg says there is no audio stream.
        if "matches no streams" in exc.stderr:
            raise MediaError("the clip has no sound track", code="no_audio",
                             subject=str(src)) from exc
        raise
    return out


def _trusted_input(src: Path, start: float | None, duration: float | None) -> list[str]:
    """``trusted_input`` with ``-ss``/``-t`` placed before ``-i`` like ``untrusted_input``."""
    pre: list[str] = []
    if start is not None and start > 0:
        pre += ["-ss", f"{start:.6f}"]
    if duration is not None:
        pre += ["-t", f"{duration:.6f}"]
    return [*pre, *ffmpeg.trusted_input(src)]


def read_pcm(path: Path) -> FloatArray:
    """Read a 16-bit PCM WAV we wrote as float32 in [-1, 1], shape ``(samples, channels)``."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise MediaError("expected a 16-bit PCM WAV", code="bad_intermediate",
                             subject=str(path))
        channels = wav.getnchannels()
        raw = wav.readframes(wav.getnframes())
    data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    return data.reshape(-1, channels)


def read_wav(path: Path) -> tuple[FloatArray, int]:
    """Read a 16-bit PCM WAV we wrote as float32 mono in [-1, 1] and its sample rate."""
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
    return mono(read_pcm(path)), rate


def mono(data: FloatArray) -> FloatArray:
    """The mean of the channels (what the speech gate listens to)."""
    if data.ndim == 2 and data.shape[1] > 1:
        return data.mean(axis=1, dtype=np.float32)
    return data.reshape(-1).astype(np.float32, copy=False)


def _frame_db(samples: FloatArray, rate: int, frame_ms: float) -> tuple[FloatArray, int]:
    """RMS energy of consecutive ``frame_ms`` frames in dBFS (full-scale sine = -3 dB)."""
    hop = max(1, round(rate * frame_ms / 1000))
    count = len(samples) // hop
    if count == 0:
        return np.zeros(0, dtype=np.float32), hop
    frames = samples[: count * hop].astype(np.float64).reshape(count, hop)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    return db.astype(np.float32), hop


def gate_threshold(frame_db: FloatArray) -> float:
    """The adaptive gate: 10th percentile of frame energies + 12 dB, never below -70 dBFS."""
    if len(frame_db) == 0:
        return ABSOLUTE_FLOOR_DB
    floor = float(np.percentile(frame_db, 10))
    return max(ABSOLUTE_FLOOR_DB, floor + FLOOR_MARGIN_DB)


def _runs(active: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Half-open index ranges where ``active`` is True."""
    padded = np.concatenate(([False], active, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def speech_regions(samples: FloatArray, rate: int, *,
                   frame_ms: float = 10) -> list[tuple[float, float]]:
    """Where someone speaks: sorted, non-overlapping ``(start, end)`` seconds.

    Frames above the adaptive gate are speech; gaps shorter than :data:`MIN_GAP` are closed
    (the pauses inside a phrase), then bursts shorter than :data:`MIN_BLIP` are dropped
    (clicks). Each edge is then refined: first outwards over neighbouring frames that stay
    within :data:`EDGE_DROP_DB` of the gate (the soft onset of a fricative), then to the
    sample where a finer 2 ms envelope first crosses the gate, so edges are not quantised to
    the frame size.
    """
    if len(samples) == 0 or rate <= 0:
        return []
    db, hop = _frame_db(samples, rate, frame_ms)
    if len(db) == 0:
        return []
    thr = gate_threshold(db)
    active = db > thr
    runs = _runs(active)
    # Close short gaps.
    min_gap = max(1, round(MIN_GAP * rate / hop))
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] < min_gap:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    # Drop blips.
    min_blip = max(1, round(MIN_BLIP * rate / hop))
    kept = [(a, b) for a, b in merged if b - a >= min_blip]
    low = thr - EDGE_DROP_DB
    max_ext = max(0, round(MAX_EDGE_EXTEND * rate / hop))
    fine_db, fine_hop = _frame_db(samples, rate, 2.0)
    regions: list[tuple[float, float]] = []
    for a, b in kept:
        lo_limit = regions[-1][1] * rate / hop if regions else 0
        ext = 0
        while a > lo_limit and ext < max_ext and db[a - 1] > low:
            a -= 1
            ext += 1
        ext = 0
        while b < len(db) and ext < max_ext and db[b] > low:
            b += 1
            ext += 1
        start = _refine(fine_db, fine_hop, a * hop, thr, rate, rising=True)
        end = _refine(fine_db, fine_hop, b * hop, thr, rate, rising=False)
        if regions and start < regions[-1][1]:
            start = regions[-1][1]
        if end > start:
            regions.append((start, end))
    return regions


def _refine(fine_db: FloatArray, fine_hop: int, sample: int, thr: float, rate: int,
            *, rising: bool) -> float:
    """Move a frame-quantised edge to where the 2 ms envelope crosses the gate nearby."""
    i = sample // fine_hop
    window = 5  # one 10 ms frame either side, in 2 ms steps
    lo = max(0, i - window)
    hi = min(len(fine_db), i + window)
    if hi <= lo:
        return sample / rate
    seg = fine_db[lo:hi] > thr
    if rising:
        hits = np.flatnonzero(seg)
        idx = lo + int(hits[0]) if len(hits) else i
        return idx * fine_hop / rate
    hits = np.flatnonzero(seg)
    idx = lo + int(hits[-1]) + 1 if len(hits) else i
    return min(idx * fine_hop, len(fine_db) * fine_hop) / rate


def is_silent(samples: FloatArray, rate: int) -> bool:
    """No usable speech: peak below -50 dBFS, or under 0.3 s of speech in total."""
    if len(samples) == 0:
        return True
    peak = float(np.max(np.abs(samples)))
    if peak <= 0 or 20 * np.log10(peak) < SILENT_PEAK_DB:
        return True
    total = sum(b - a for a, b in speech_regions(samples, rate))
    return total < MIN_SPEECH


def pauses(regions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The gaps between consecutive speech regions (where a caption may change)."""
    return [(a[1], b[0]) for a, b in itertools.pairwise(regions) if b[0] > a[1]]


@dataclass(frozen=True)
class Trim:
    """The part of a clip to keep, in seconds of the original; ``auto`` if Chorus chose it."""

    start: float
    end: float
    auto: bool

    @property
    def duration(self) -> float:
        return self.end - self.start


def auto_trim(regions: list[tuple[float, float]], duration: float, *, lead: float = 0.35,
              tail: float = 0.6) -> Trim:
    """Cut the dead air around the speech, keeping a natural margin before and after.

    ``lead`` before the first word (a breath, the speaker settling) and a longer ``tail``
    after the last (so the message does not end mid-gesture), clamped to the clip. With no
    speech the whole clip is kept: judging a silent clip is the validator's job.
    """
    duration = max(0.0, duration)
    if not regions:
        return Trim(0.0, duration, auto=True)
    start = max(0.0, regions[0][0] - lead)
    end = min(duration, regions[-1][1] + tail)
    if end <= start:
        return Trim(0.0, duration, auto=True)
    return Trim(start, end, auto=True)
