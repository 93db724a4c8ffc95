"""Loudness: measure, normalise by two-pass EBU R128, and check the finished file.

Why it is done this way (measured, see MEDIA-NOTES.md):

* Two-pass ``loudnorm`` (measure, then normalise with the measured values) lands on the
  integrated target; one pass guesses and drifts.
* AAC encoding raises the true peak by up to ~0.7 dB, so loudnorm aims ``headroom`` below the
  final ceiling (-2.0 dBTP for a -1.0 dBTP goal) and the finished file is measured again
  (:func:`measure_final`), never the intermediate.
* Speech is peaky: with ``linear=true`` loudnorm applies one gain when that keeps the true
  peak under the target and falls back to its dynamic mode (a look-ahead limiter) otherwise.
* In dynamic mode loudnorm works, and outputs, at 192 kHz, so ``aresample=48000`` follows;
  the output is padded/trimmed to the input's exact sample count so lip sync never moves.

The parsers are pure functions of ffmpeg's stderr so they are tested on captured output.
"""

from __future__ import annotations

import json
import math
import re
import wave
from dataclasses import dataclass
from pathlib import Path

from workers.media import ffmpeg
from workers.media.errors import MediaError
from workers.media.style import SAMPLE_RATE


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


_JSON_BLOCK = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


def _number(value: object, key: str) -> float:
    try:
        return float(str(value).strip())
    except ValueError as exc:
        raise MediaError(f"loudnorm reported an unreadable {key}: {value!r}",
                         code="loudness_unreadable") from exc


def parse_loudnorm_json(stderr: str) -> Loudness:
    """The measurement from the JSON block ``loudnorm=print_format=json`` prints at the end.

    Silent input makes loudnorm report ``-inf``: that raises :class:`MediaError` ``silent``,
    since no gain can bring silence to a loudness target.
    """
    blocks = _JSON_BLOCK.findall(stderr)
    if not blocks:
        raise MediaError("no loudness measurement in ffmpeg's output",
                         code="loudness_unreadable")
    try:
        data = json.loads(blocks[-1])
    except json.JSONDecodeError as exc:
        raise MediaError("loudnorm printed unreadable JSON", code="loudness_unreadable") from exc
    values = {k: _number(data.get(k), k)
              for k in ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")}
    if not math.isfinite(values["input_i"]) or not math.isfinite(values["input_tp"]):
        raise MediaError("the sound track is silent: there is nothing to make louder",
                         code="silent")
    offset = values["target_offset"]
    return Loudness(
        integrated=values["input_i"],
        true_peak=values["input_tp"],
        lra=values["input_lra"],
        threshold=values["input_thresh"],
        offset=offset if math.isfinite(offset) else 0.0,
    )


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


def _loudnorm(target: LoudnessTarget, extra: str = "") -> str:
    return (f"loudnorm=I={target.integrated:.2f}:TP={target.internal_true_peak:.2f}"
            f":LRA={target.lra:.2f}{extra}")


def measure(path: Path, *, untrusted: bool = False, timeout: float = 300) -> Loudness:
    """Pass 1: loudnorm's measurement of ``path``'s first audio stream.

    Normally run on our own WAV intermediate. Padded with silence like pass 2 (so that
    loudnorm's ``target_offset`` is computed on what pass 2 will see). ``-ac 2`` because
    loudnorm into the null muxer may otherwise fail to pick a channel layout.
    """
    inp = ffmpeg.untrusted_input(path) if untrusted else ffmpeg.trusted_input(path)
    args = [*inp, "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-af", f"apad=pad_dur={SHORT_INPUT_PAD},"
                   + _loudnorm(LoudnessTarget(), ":print_format=json"),
            "-ac", "2", "-f", "null", "-"]
    result = ffmpeg.run(args, timeout=timeout, what="measure loudness", subject=str(path))
    try:
        return parse_loudnorm_json(result.stderr.decode("utf-8", "replace"))
    except MediaError as exc:
        exc.subject = str(path)
        raise


#: loudnorm misbehaves on input shorter than its 3 s window (in ffmpeg 5.1 a 2.5 s clip came
#: out 26 LU too quiet): pass 2 pads with this much silence, then trims back.
SHORT_INPUT_PAD = 3.0


def normalise_filter(measured: Loudness, target: LoudnessTarget, *,
                     length: int | None = None) -> str:
    """The pass-2 filter chain: loudnorm fed pass 1's numbers, back to 48 kHz.

    With ``length`` (samples at 48 kHz), the chain pads the input with 3 s of silence first
    (loudnorm needs its 3 s window; silence is gated out of the measurement) and ends with
    exactly ``length`` stereo samples, so the audio never moves or grows.

    No ``alimiter``: loudnorm's own limiter (dynamic mode) or its linear-mode peak check keeps
    the intermediate at ``internal_true_peak`` (a sample-peak limiter would add nothing at
    192 kHz but its own delay); AAC's overshoot is covered by ``headroom``, and the tests
    measure the AAC-encoded result under the ceiling.
    """
    extra = (f":measured_I={measured.integrated:.2f}:measured_TP={measured.true_peak:.2f}"
             f":measured_LRA={measured.lra:.2f}:measured_thresh={measured.threshold:.2f}"
             f":offset={measured.offset:.2f}:linear=true:print_format=json")
    chain = f"{_loudnorm(target, extra)},aresample={SAMPLE_RATE}"
    if length is None:
        return chain
    return (f"apad=pad_dur={SHORT_INPUT_PAD},{chain},"
            f"aformat=sample_fmts=s16:sample_rates={SAMPLE_RATE}:channel_layouts=stereo,"
            f"apad=whole_len={length},atrim=end_sample={length}")


def wav_frames(path: Path) -> int:
    """Number of samples (per channel) in a WAV we wrote."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes()


def normalise_wav(src_wav: Path, out_wav: Path, measured: Loudness, target: LoudnessTarget,
                  *, timeout: float = 300) -> Path:
    """Pass 2 on our WAV intermediate (see :func:`_normalise`)."""
    return _normalise(src_wav, out_wav, measured, target, timeout=timeout)[0]


def _normalise(src_wav: Path, out_wav: Path, measured: Loudness, target: LoudnessTarget,
               *, timeout: float = 300) -> tuple[Path, str]:
    """Pass 2 on our WAV intermediate: 48 kHz stereo s16le, exactly as many samples as in.

    loudnorm keeps the timeline (a test checks the cross-correlation lag is 0 samples); the
    input is padded for loudnorm's 3 s window and trimmed back to its exact length, because
    the segment's audio must be exactly as long as its picture.
    """
    n = wav_frames(src_wav)
    chain = normalise_filter(measured, target, length=n)
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    args = [*ffmpeg.trusted_input(src_wav), "-map", "0:a:0", "-af", chain,
            "-ac", "2", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le",
            "-map_metadata", "-1", "-fflags", "+bitexact", "-f", "wav", "-y", str(out_wav)]
    done = ffmpeg.run(args, timeout=timeout, what="normalise loudness", subject=str(src_wav))
    got = wav_frames(out_wav)
    if got != n:
        raise MediaError(f"loudness normalisation changed the length ({n} -> {got} samples)",
                         code="length_changed", subject=str(src_wav))
    return out_wav, done.stderr.decode("utf-8", "replace")


def parse_loudnorm_output(stderr: str) -> Loudness:
    """What pass 2 measured of its own output (``output_*`` in its JSON block)."""
    blocks = _JSON_BLOCK.findall(stderr)
    if not blocks:
        raise MediaError("no loudness measurement in ffmpeg's output",
                         code="loudness_unreadable")
    data = json.loads(blocks[-1])
    values = {k: _number(data.get(k), k)
              for k in ("output_i", "output_tp", "output_lra", "output_thresh")}
    return Loudness(integrated=values["output_i"], true_peak=values["output_tp"],
                    lra=values["output_lra"], threshold=values["output_thresh"])


def normalise_wav_measured(src_wav: Path, out_wav: Path, measured: Loudness,
                           target: LoudnessTarget, *, timeout: float = 300
                           ) -> tuple[Path, Loudness]:
    """Pass 2, plus loudnorm's own measurement of what it wrote: no third decode needed
    (it matched a separate pass-1 measurement of the output within 0.02 LU and 0.01 dB)."""
    out, stderr = _normalise(src_wav, out_wav, measured, target, timeout=timeout)
    return out, parse_loudnorm_output(stderr)


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
