"""Loudness: measure and normalise a clip's sound to EBU R128, in one pass over its samples.

Why it is done this way (measured, see MEDIA-NOTES.md and benchmarks/README.md):

* The sound is already decoded once (for speech detection); measuring it with pyloudnorm's
  ITU-R BS.1770-4 meter and applying one gain costs a few hundredths of a CPU-second per clip,
  where two ``loudnorm`` passes (which resample to 192 kHz) cost ~0.6.
* Speech is peaky: most clips cannot reach -16 LUFS under the true-peak ceiling with a gain
  alone, so a look-ahead true-peak limiter (:func:`limit`) follows the gain, acting only
  around the peaks that need it (the rest of the clip keeps its dynamics untouched).
* True peak is measured on a 4x oversampled signal (polyphase FIR, ``scipy.signal``), as
  BS.1770 describes; it agrees with ffmpeg's ``ebur128=peak=true`` within ~0.1 dB.
* AAC encoding raises the true peak by up to ~0.7 dB, so the limiter aims ``headroom`` below
  the final ceiling, and the encoded AAC itself is decoded and measured again
  (:func:`measure_samples` on the decoded packets): the figure that counts is the one of the
  sound people hear.

The ebur128 parser is a pure function of ffmpeg's stderr so it is tested on captured output;
:func:`measure_final` measures a finished file with ffmpeg (tests compare it with ours).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from workers.media import ffmpeg
from workers.media.errors import MediaError
from workers.media.style import SAMPLE_RATE

Samples = npt.NDArray[np.float32]  # shape (n, channels), float32 in [-1, 1]

@dataclass(frozen=True)
class LoudnessTarget:
    """What the finished file must measure: integrated LUFS, true-peak ceiling (dBTP), LRA."""

    integrated: float = -16.0
    true_peak: float = -1.0
    lra: float = 11.0
    headroom: float = 1.0  # AAC adds up to ~0.7 dB of true peak

    @property
    def internal_true_peak(self) -> float:
        """The true-peak target given to loudnorm, below the final ceiling by ``headroom``."""
        return self.true_peak - self.headroom


@dataclass(frozen=True)
class Loudness:
    """A measurement: integrated loudness (LUFS), true peak (dBTP), loudness range (LU),
    gating threshold (LUFS) and, from loudnorm's pass 1, the offset to hand to pass 2."""

    integrated: float
    true_peak: float
    lra: float
    threshold: float
    offset: float = 0.0


#: BS.1770 gating: blocks below the absolute gate, or 10 LU under the ungated mean, are out.
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
#: True peak is measured on a signal oversampled this many times (BS.1770-4 Annex 2).
OVERSAMPLE = 4
#: A clip needing more gain than this stays quieter than the target (and says so).
MAX_GAIN_DB = 40.0
#: The limiter holds its gain reduction this long either side of a peak, ramps it over
#: ``LIMITER_ATTACK`` and lets go with an exponential release of ``LIMITER_RELEASE``.
LIMITER_HOLD = 0.010
LIMITER_ATTACK = 0.004
LIMITER_RELEASE = 0.080

_CHUNK = SAMPLE_RATE * 10  # oversample 10 s at a time: memory stays flat for long clips
_PAD = 64  # samples of context either side of a chunk (the FIR is 81 taps at 4x)


@dataclass(frozen=True)
class Measured:
    """A measurement plus the power of each 400 ms gating block (hop 100 ms), so that the
    loudness of a programme made of several clips is computed without decoding it again."""

    loudness: Loudness
    blocks: tuple[float, ...]


def _gated(powers: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Integrated loudness and relative gate (LUFS) from block powers (BS.1770-4 eq. 4-7)."""
    with np.errstate(divide="ignore"):
        level = -0.691 + 10 * np.log10(powers)
    above = powers[level >= ABSOLUTE_GATE]
    if len(above) == 0:
        return -math.inf, ABSOLUTE_GATE
    relative = -0.691 + 10 * math.log10(float(np.mean(above))) + RELATIVE_GATE
    kept = powers[(level >= ABSOLUTE_GATE) & (level > relative)]
    return -0.691 + 10 * math.log10(float(np.mean(kept))), relative


def peak_envelope(x: Samples) -> npt.NDArray[np.float32]:
    """Per sample, the largest absolute value of the 4x oversampled signal around it, over
    all channels: the true-peak envelope the limiter works on."""
    from scipy import signal  # imported when sound is measured: 0.6 s of start-up otherwise

    n = len(x)
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, _CHUNK):
        lo, hi = max(0, start - _PAD), min(n, start + _CHUNK + _PAD)
        up = np.abs(signal.resample_poly(x[lo:hi], OVERSAMPLE, 1, axis=0))
        # Element-wise maxima over the phases and channels (a reduction along a short
        # axis is several times slower in numpy).
        env = up[0::OVERSAMPLE, 0].copy()
        for c in range(up.shape[1]):
            for k in range(OVERSAMPLE):
                np.maximum(env, up[k::OVERSAMPLE, c], out=env)
        end = min(n, start + _CHUNK)
        out[start:end] = env[start - lo:end - lo]
    return out


def true_peak(x: Samples) -> float:
    """True peak in dBTP (-inf for digital silence)."""
    if len(x) == 0:
        return -math.inf
    peak = float(peak_envelope(x).max())
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def measure_samples(x: Samples, rate: int = SAMPLE_RATE, *, subject: str | None = None
                    ) -> Measured:
    """Integrated loudness, true peak and loudness range of ``x`` (shape ``(n, channels)``).

    pyloudnorm's meter gives the integrated value and the block powers; silence raises
    :class:`MediaError` ``silent``, since no gain can bring silence to a target.
    """
    import pyloudnorm  # (imports scipy.signal: see peak_envelope)

    meter = pyloudnorm.Meter(rate)
    integrated = float(meter.integrated_loudness(x))
    powers = 10 ** ((np.asarray(meter.blockwise_loudness, dtype=np.float64) + 0.691) / 10)
    peak = true_peak(x)
    if not math.isfinite(integrated) or not math.isfinite(peak):
        raise MediaError("the sound track is silent: there is nothing to make louder",
                         code="silent", subject=subject)
    _, threshold = _gated(powers)
    try:
        lra = float(meter.loudness_range(x))
    except ValueError:  # shorter than the 3 s blocks of the loudness range
        lra = 0.0
    return Measured(Loudness(integrated=integrated, true_peak=peak,
                             lra=lra if math.isfinite(lra) else 0.0, threshold=threshold),
                    tuple(float(p) for p in powers))


def programme_loudness(parts: Iterable[Measured]) -> Loudness:
    """The loudness of clips played one after the other (with silence between them, which
    the absolute gate leaves out): gating over all their blocks, the highest true peak.

    ``lra`` is not derived (NaN): the report gives a programme's integrated loudness and
    true peak only.
    """
    parts = list(parts)
    if not parts:
        raise MediaError("no sound to measure", code="silent")
    powers = np.concatenate([np.asarray(p.blocks, dtype=np.float64) for p in parts])
    integrated, threshold = _gated(powers)
    return Loudness(integrated=integrated, lra=math.nan, threshold=threshold,
                    true_peak=max(p.loudness.true_peak for p in parts))


def limit(x: Samples, ceiling_db: float, rate: int = SAMPLE_RATE) -> Samples:
    """A look-ahead true-peak limiter: ``x`` with no oversampled peak above ``ceiling_db``.

    The gain reduction each sample needs is held over ``LIMITER_HOLD`` either side, then
    averaged over ``LIMITER_ATTACK`` either side (every average includes the sample's own
    need, so the ceiling holds) and released exponentially; where nothing exceeds the
    ceiling the samples are untouched. Any overshoot left by the gain's own movement between
    samples is taken off by a second pass.
    """
    from scipy import ndimage, signal

    y = x
    ceiling = 10 ** (ceiling_db / 20)
    hold = max(1, round(LIMITER_HOLD * rate))
    attack = max(1, min(hold, round(LIMITER_ATTACK * rate)))
    a = math.exp(-1 / (LIMITER_RELEASE * rate))
    for _ in range(3):
        env = peak_envelope(y)
        if float(env.max()) <= ceiling * 1.0001:
            return y
        with np.errstate(divide="ignore"):
            need = np.maximum(0.0, 20 * np.log10(np.maximum(env, 1e-12) / ceiling))
        held = ndimage.maximum_filter1d(need, size=2 * hold + 1, mode="constant")
        ramp = ndimage.uniform_filter1d(held, size=2 * attack + 1, mode="constant")
        release = signal.lfilter([1 - a], [1, -a], ramp)
        reduction = np.maximum(ramp, release)
        # 0.01 dB under the ceiling where it acts; a release tail under 0.001 dB is over.
        reduction = np.where(reduction > 0.001, reduction + 0.01, 0.0)
        y = (y * (10 ** (-reduction / 20))[:, None]).astype(np.float32)
    return y


def normalise(x: Samples, target: LoudnessTarget, *, ceiling_db: float | None = None,
              rate: int = SAMPLE_RATE) -> Samples:
    """Bring ``x`` to the target integrated loudness: one gain, then the true-peak limiter
    at ``ceiling_db`` (default ``target.internal_true_peak``), then the small gain the
    limiting took away, until the integrated loudness is within 0.05 LU (three rounds at
    most). Never more than :data:`MAX_GAIN_DB` of gain."""
    import pyloudnorm

    ceiling = target.internal_true_peak if ceiling_db is None else ceiling_db
    meter = pyloudnorm.Meter(rate)
    gain = min(MAX_GAIN_DB, target.integrated - float(meter.integrated_loudness(x)))
    out = x
    for _ in range(3):
        out = limit((x * 10 ** (gain / 20)).astype(np.float32), ceiling, rate)
        short = target.integrated - float(meter.integrated_loudness(out))
        if abs(short) <= 0.05 or gain >= MAX_GAIN_DB:
            break
        gain = min(MAX_GAIN_DB, gain + short)
    return out


_SUMMARY = re.compile(
    r"Summary:\s*"
    r"Integrated loudness:\s*I:\s*(?P<i>-?[\d.]+|-?inf)\s*LUFS\s*"
    r"Threshold:\s*(?P<thr>-?[\d.]+|-?inf)\s*LUFS\s*"
    r"Loudness range:\s*LRA:\s*(?P<lra>-?[\d.]+|-?inf)\s*LU"
    r".*?True peak:\s*Peak:\s*(?P<tp>-?[\d.]+|-?inf)\s*dBFS",
    re.S,
)


def parse_ebur128_summary(stderr: str) -> Loudness:
    """The measurement from the Summary ``ebur128=peak=true`` prints at the end.

    ebur128 reports silence as I = -70 LUFS (its absolute gate) and a peak of ``-inf``; that
    raises :class:`MediaError` ``silent``.
    """
    matches = list(_SUMMARY.finditer(stderr))
    if not matches:
        raise MediaError("no ebur128 summary in ffmpeg's output", code="loudness_unreadable")
    m = matches[-1]
    integrated = float(m["i"])
    true_peak = float(m["tp"])
    if not math.isfinite(true_peak) or integrated <= -70.0:
        raise MediaError("the sound track is silent", code="silent")
    return Loudness(integrated=integrated, true_peak=true_peak, lra=float(m["lra"]),
                    threshold=float(m["thr"]))


def measure_final(path: Path, *, timeout: float = 600) -> Loudness:
    """Integrated loudness and true peak of a finished file (``ebur128=peak=true``).

    ``framelog=verbose`` keeps the per-100 ms lines out of the log; the summary still prints.
    """
    args = [*ffmpeg.trusted_input(path), "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"]
    result = ffmpeg.run(args, timeout=timeout, what="measure final loudness",
                        subject=str(path))
    try:
        return parse_ebur128_summary(result.stderr.decode("utf-8", "replace"))
    except MediaError as exc:
        exc.subject = str(path)
        raise
