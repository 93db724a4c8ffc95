"""Per-clip preparation that does not depend on the output format.

For each clip: probe and validate the upload, decode its sound once, find the speech, decide
the trim (given, or automatic with a natural margin), and make the segment's sound from the
same decoded samples: dipped at both ends, measured and normalised to the loudness target
(gain plus true-peak limiter), encoded to AAC once, and measured again as decoded, so the
report and the true-peak ceiling are about what people will hear. It is the same for every
output format. The result is cached by content (input hash + trim + target), so a recompile
reads a small JSON file and the AAC instead of decoding the upload again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workers.media import loudness, probe, render, speech
from workers.media.cache import recipe_key, write_text_atomic
from workers.media.campaign import ClipSpec
from workers.media.errors import MediaError
from workers.media.style import FPS, SAMPLE_RATE, SAMPLES_PER_FRAME

ANALYSIS_VERSION = 3
#: Safety below the ceiling for the encoded sound (AAC noise substitution is random).
TRUE_PEAK_SAFETY = 0.1


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
    audio: Path | None  # the segment's sound: AAC (ADTS), 48 kHz stereo; None: not here
    key: str
    warnings: tuple[str, ...] = field(default=())
    #: BS.1770 block powers of the encoded sound (for the programme's loudness).
    loudness_blocks: tuple[float, ...] = field(default=())

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
            "loudness_blocks": list(self.loudness_blocks),
            "warnings": list(self.warnings), "key": self.key,
        }

    def measured(self) -> loudness.Measured | None:
        """The encoded sound's measurement, if the blocks were kept (for the programme)."""
        if not self.loudness_blocks:
            return None
        after = self.loudness_after
        return loudness.Measured(
            loudness.Loudness(integrated=after["integrated"], true_peak=after["true_peak"],
                              lra=after["lra"], threshold=loudness.ABSOLUTE_GATE),
            self.loudness_blocks)


def clip_label(spec: ClipSpec) -> str:
    return f"{spec.language}, {spec.speaker}"


def _loud_dict(m: loudness.Loudness) -> dict[str, float]:
    return {"integrated": round(m.integrated, 2), "true_peak": round(m.true_peak, 2),
            "lra": round(m.lra, 2)}


def _cut(samples: speech.FloatArray, start: float, frames: int) -> speech.FloatArray:
    """``frames`` video frames' worth of samples from ``start`` (zero-padded)."""
    need = frames * SAMPLES_PER_FRAME
    first = min(max(0, round(start * SAMPLE_RATE)), len(samples))
    out = np.zeros((need, samples.shape[1]), dtype=np.float32)
    part = samples[first:first + need]
    out[:len(part)] = part
    return out


def _sound(x: speech.FloatArray, target: loudness.LoudnessTarget, out: Path, tmp: Path,
           subject: str) -> tuple[loudness.Measured, loudness.Measured]:
    """Normalise, encode and measure the segment's sound; returns (before, after).

    If the encoded sound's true peak is over the ceiling (AAC adds up to ~0.7 dB), the
    limiter's ceiling is lowered by the excess and the sound made again (twice at most).
    """
    dipped = render.dip_audio(x)
    before = loudness.measure_samples(dipped, subject=subject)
    ceiling = target.internal_true_peak
    for _ in range(3):
        normalised = loudness.normalise(dipped, target, ceiling_db=ceiling)
        render.encode_audio(normalised, tmp)
        after = loudness.measure_samples(render.decode_audio(tmp, len(x)), subject=subject)
        over = after.loudness.true_peak - (target.true_peak - TRUE_PEAK_SAFETY)
        if over <= 0:
            break
        ceiling -= over + 0.05
    shutil.move(str(tmp), out)
    return before, after


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
    audio_path = folder / f"{key}.aac"
    if meta_path.exists() and audio_path.exists():
        try:
            return from_meta(spec, json.loads(meta_path.read_text("utf-8")), audio_path)
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
        stereo = speech.read_pcm(full)
        full.unlink()
        samples, rate = speech.mono(stereo), SAMPLE_RATE
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
        before, after_m = _sound(_cut(stereo, start, frames), target, audio_path,
                                 tmp / "audio.aac", subject)
        after = after_m.loudness
        if after.integrated < target.integrated - 1.0:
            warnings.append(
                f"quiet clip: reached {after.integrated:.1f} LUFS, target "
                f"{target.integrated:.1f} (the speaker may be far from the microphone)")
        if info.video.variable_frame_rate:
            warnings.append("variable frame rate input; converted to constant 30 fps")
    meta = {
        "version": ANALYSIS_VERSION,
        "source_sha256": source_sha256,
        "info": info.summary(),
        "width": info.video.display_width,
        "height": info.video.display_height,
        "trim": [round(start, 4), round(end, 4), auto],
        "frames": frames,
        "speech": [[round(a, 4), round(b, 4)] for a, b in rel],
        "loudness_before": _loud_dict(before.loudness),
        "loudness_after": _loud_dict(after),
        "loudness_blocks": [float(f"{p:.6g}") for p in after_m.blocks],
        "warnings": warnings,
        "key": key,
    }
    write_text_atomic(meta_path, json.dumps(meta, ensure_ascii=False, indent=1))
    return from_meta(spec, meta, audio_path)


def from_meta(spec: ClipSpec, meta: dict[str, Any], audio_path: Path | None = None
              ) -> PreparedClip:
    """Rebuild a prepared clip from :meth:`PreparedClip.to_meta` data. Without ``audio_path``
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
        audio=audio_path,
        key=meta["key"],
        warnings=tuple(meta.get("warnings", ())),
        loudness_blocks=tuple(float(p) for p in meta.get("loudness_blocks", ())),
    )
