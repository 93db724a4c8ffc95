"""Per-clip preparation that does not depend on the output format.

For each clip: probe and validate the upload, decode its sound once, find the speech, decide
the trim (given, or automatic with a natural margin), and make the loudness-normalised audio
of exactly the segment's length. The result is cached by content (input hash + trim + target),
so a recompile reads a small JSON file and a WAV instead of decoding the upload again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workers.media import loudness, probe, speech
from workers.media.cache import recipe_key, write_text_atomic
from workers.media.campaign import ClipSpec
from workers.media.errors import MediaError
from workers.media.style import FPS, SAMPLE_RATE, SAMPLES_PER_FRAME

ANALYSIS_VERSION = 2


@dataclass(frozen=True)
class ClipProblem:
    """Why one clip of a campaign cannot be compiled."""

    index: int
    file: str
    label: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"clip {self.index} ({self.label}, {self.file}): {self.message} [{self.code}]"


@dataclass(frozen=True)
class PreparedClip:
    """Everything format-independent about a clip, ready for rendering."""

    spec: ClipSpec
    source_sha256: str
    info: dict[str, Any]  # MediaInfo.summary()
    width: int  # display size (rotation applied)
    height: int
    trim_start: float
    trim_end: float
    trim_auto: bool
    frames: int
    speech: tuple[tuple[float, float], ...]  # relative to trim_start
    loudness_before: dict[str, float]
    loudness_after: dict[str, float]
    audio_wav: Path | None  # normalised, 48 kHz stereo, frames * 1600 samples; None: not here
    key: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def duration(self) -> float:
        return self.frames / FPS

    def to_meta(self) -> dict[str, Any]:
        """Plain JSON data, so another worker can rebuild this with :func:`from_meta`."""
        return {
            "version": ANALYSIS_VERSION, "source_sha256": self.source_sha256,
            "info": self.info, "width": self.width, "height": self.height,
            "trim": [self.trim_start, self.trim_end, self.trim_auto], "frames": self.frames,
            "speech": [list(r) for r in self.speech],
            "loudness_before": self.loudness_before, "loudness_after": self.loudness_after,
            "warnings": list(self.warnings), "key": self.key,
        }


def clip_label(spec: ClipSpec) -> str:
    return f"{spec.language}, {spec.speaker}"


def _loud_dict(m: loudness.Loudness) -> dict[str, float]:
    return {"integrated": round(m.integrated, 2), "true_peak": round(m.true_peak, 2),
            "lra": round(m.lra, 2)}


def _cut_wav(src: Path, dest: Path, start: float, frames: int) -> None:
    """Copy ``frames`` video frames' worth of samples from ``start`` (zero-padded)."""
    need = frames * SAMPLES_PER_FRAME
    with wave.open(str(src), "rb") as inp:
        rate, channels, width = inp.getframerate(), inp.getnchannels(), inp.getsampwidth()
        if rate != SAMPLE_RATE:
            raise MediaError(f"expected {SAMPLE_RATE} Hz audio, got {rate}",
                             code="bad_intermediate", subject=str(src))
        first = max(0, round(start * rate))
        inp.setpos(min(first, inp.getnframes()))
        data = inp.readframes(need)
    data += b"\x00" * (need * channels * width - len(data))
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(data)


def prepare_clip(
    spec: ClipSpec,
    *,
    source_sha256: str,
    cache_dir: Path,
    policy: probe.Policy,
    target: loudness.LoudnessTarget,
) -> PreparedClip:
    """Analyse one clip (or load the cached analysis). Raises :class:`MediaError`."""
    key = recipe_key("analysis", ANALYSIS_VERSION, source_sha256, spec.trim,
                     policy.__dict__, target.__dict__)
    folder = cache_dir / "analysis"
    meta_path = folder / f"{key}.json"
    wav_path = folder / f"{key}.wav"
    if meta_path.exists() and wav_path.exists():
        try:
            return from_meta(spec, json.loads(meta_path.read_text("utf-8")), wav_path)
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is simply redone
    folder.mkdir(parents=True, exist_ok=True)
    subject = str(spec.file)
    info = probe.probe(spec.file, policy)
    problems = probe.validate(info, policy)
    if problems:
        first = problems[0]
        more = "; ".join(p.message for p in problems[1:])
        raise MediaError(first.message + (f"; also {more}" if more else ""),
                         code=first.code, subject=subject)
    assert info.video is not None
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(dir=folder, prefix=".work-") as tmp_name:
        tmp = Path(tmp_name)
        full = speech.extract_wav(spec.file, tmp / "full.wav", untrusted=True,
                                  rate=SAMPLE_RATE, channels=2)
        samples, rate = speech.read_wav(full)
        if speech.is_silent(samples, rate):
            raise MediaError("the clip's sound is silent: no speech was found",
                             code="silent", subject=subject)
        regions = speech.speech_regions(samples, rate)
        total = len(samples) / rate
        if spec.trim is not None:
            start, end = spec.trim
            if start >= total:
                raise MediaError(f"trim start {start:.2f} s is after the clip's end "
                                 f"({total:.2f} s)", code="bad_trim", subject=subject)
            end = min(end, total)
            auto = False
        else:
            t = speech.auto_trim(regions, total)
            start, end, auto = t.start, t.end, True
        frames = max(1, round((end - start) * FPS))
        if frames / FPS < policy.min_duration:
            raise MediaError(
                f"after trimming, the clip is {frames / FPS:.2f} s; it must be at least "
                f"{policy.min_duration:g} s", code="too_short", subject=subject)
        rel = tuple((max(0.0, a - start), min(end, b) - start)
                    for a, b in regions if b > start and a < end)
        if not rel:
            raise MediaError("no speech inside the trimmed part of the clip",
                             code="silent", subject=subject)
        cut = tmp / "cut.wav"
        _cut_wav(full, cut, start, frames)
        before = loudness.measure(cut)
        norm, after = loudness.normalise_wav_measured(cut, tmp / "norm.wav", before, target)
        if after.integrated < target.integrated - 1.0:
            warnings.append(
                f"quiet clip: reached {after.integrated:.1f} LUFS, target "
                f"{target.integrated:.1f} (the speaker may be far from the microphone)")
        if info.video.variable_frame_rate:
            warnings.append("variable frame rate input; converted to constant 30 fps")
        shutil.move(str(norm), wav_path)
    meta = {
        "version": ANALYSIS_VERSION,
        "source_sha256": source_sha256,
        "info": info.summary(),
        "width": info.video.display_width,
        "height": info.video.display_height,
        "trim": [round(start, 4), round(end, 4), auto],
        "frames": frames,
        "speech": [[round(a, 4), round(b, 4)] for a, b in rel],
        "loudness_before": _loud_dict(before),
        "loudness_after": _loud_dict(after),
        "warnings": warnings,
        "key": key,
    }
    write_text_atomic(meta_path, json.dumps(meta, ensure_ascii=False, indent=1))
    return from_meta(spec, meta, wav_path)


def from_meta(spec: ClipSpec, meta: dict[str, Any], wav_path: Path | None = None
              ) -> PreparedClip:
    """Rebuild a prepared clip from :meth:`PreparedClip.to_meta` data. Without ``wav_path``
    (another machine prepared it) the clip's segments can be planned and joined, not
    rendered: the engine prepares such a clip again if one of its segments is missing."""
    start, end, auto = meta["trim"]
    return PreparedClip(
        spec=spec,
        source_sha256=meta["source_sha256"],
        info=meta["info"],
        width=int(meta["width"]),
        height=int(meta["height"]),
        trim_start=float(start),
        trim_end=float(end),
        trim_auto=bool(auto),
        frames=int(meta["frames"]),
        speech=tuple((float(a), float(b)) for a, b in meta["speech"]),
        loudness_before=meta["loudness_before"],
        loudness_after=meta["loudness_after"],
        audio_wav=wav_path,
        key=meta["key"],
        warnings=tuple(meta.get("warnings", ())),
    )
