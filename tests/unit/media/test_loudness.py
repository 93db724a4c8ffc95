"""Loudness: parsers on captured ffmpeg 5.1 output, and the real chain measured after AAC."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from workers.media import ffmpeg, render
from workers.media.errors import MediaError
from workers.media.loudness import (
    Loudness,
    LoudnessTarget,
    limit,
    measure_final,
    measure_samples,
    normalise,
    parse_ebur128_summary,
    programme_loudness,
    true_peak,
)
from workers.media.speech import extract_wav, read_pcm

# Captured from this machine's ffmpeg 5.1 (Debian 5.1.9): ebur128=peak=true summaries,
# on speech and on silence.
EBUR128_SPEECH = """\
size=N/A time=00:00:03.62 bitrate=N/A speed= 162x
video:0kB audio:156kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
[Parsed_ebur128_0 @ 0x5599edc86b00] Summary:

  Integrated loudness:
    I:         -20.5 LUFS
    Threshold: -31.2 LUFS

  Loudness range:
    LRA:         1.4 LU
    Threshold: -41.1 LUFS
    LRA low:   -21.9 LUFS
    LRA high:  -20.6 LUFS

  True peak:
    Peak:       -2.5 dBFS
"""

EBUR128_SILENCE = """\
[Parsed_ebur128_0 @ 0x564853cab8c0] Summary:

  Integrated loudness:
    I:         -70.0 LUFS
    Threshold:   0.0 LUFS

  Loudness range:
    LRA:         0.0 LU
    Threshold:   0.0 LUFS
    LRA low:     0.0 LUFS
    LRA high:    0.0 LUFS

  True peak:
    Peak:       -inf dBFS
"""


def test_parse_ebur128_summary():
    m = parse_ebur128_summary(EBUR128_SPEECH)
    assert (m.integrated, m.true_peak, m.lra, m.threshold) == (-20.5, -2.5, 1.4, -31.2)


def test_parse_ebur128_silence_is_an_error():
    with pytest.raises(MediaError) as err:
        parse_ebur128_summary(EBUR128_SILENCE)
    assert err.value.code == "silent"


def test_target_keeps_headroom_for_aac():
    assert LoudnessTarget().internal_true_peak == -2.0


def test_limiter_holds_the_ceiling_and_leaves_the_rest_alone():
    rate = 48000
    t = np.arange(rate * 2) / rate
    x = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    x[rate // 2: rate // 2 + 480] *= 4.5  # a 10 ms burst at +13 dB, over 0 dBTP
    stereo = np.stack([x, x], axis=1)
    out = limit(stereo, -2.0)
    assert true_peak(out) <= -2.0 + 1e-3
    # from 0.5 s after the burst on, nothing changed
    far = slice(rate, 2 * rate)
    assert np.array_equal(out[far], stereo[far])


def test_limiter_does_nothing_under_the_ceiling():
    x = np.full((4800, 2), 0.1, dtype=np.float32)
    assert limit(x, -1.0) is x


def test_silence_is_refused():
    with pytest.raises(MediaError) as err:
        measure_samples(np.zeros((48000, 2), dtype=np.float32), subject="silence.wav")
    assert err.value.code == "silent"
    assert "silence.wav" in str(err.value)


# ----------------------------------------------------------------------------- real media

TEXT = ("Stay at home. Protect the health service. Save lives. "
        "We are all in this together, so please keep your distance.")

# Quiet and too-loud phone clips, an 8 kHz mono WebM, a 44.1 kHz 5.1 MP4.
KINDS = {
    "quiet.mp4": ["-af", "volume=-28dB", "-ar", "48000", "-ac", "2", "-c:a", "aac"],
    "loud.mp4": ["-af", "volume=8dB", "-ar", "48000", "-ac", "2", "-c:a", "aac"],
    # Under loudnorm's 3 s window (ffmpeg 5.1 left such a clip 26 LU short without padding).
    "short.mp4": ["-af", "atrim=0:2.4,volume=-20dB", "-ar", "48000", "-c:a", "aac"],
    "mono-8k.webm": ["-ar", "8000", "-ac", "1", "-c:a", "libopus"],
    "surround-44k.mp4": ["-af", "pan=5.1|FL=c0|FR=c0|FC=c0|LFE=c0|BL=0.3*c0|BR=0.3*c0",
                         "-ar", "44100", "-c:a", "aac"],
}


@pytest.fixture(scope="module")
def voice(tmp_path_factory) -> Path:
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is required for these tests (apt-get install espeak-ng)")
    path = tmp_path_factory.mktemp("voice") / "voice.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-w", str(path), TEXT], check=True)
    return path


def lag(a: np.ndarray, b: np.ndarray, window: int = 2000) -> int:
    """Samples by which ``b`` is late relative to ``a`` (cross-correlation peak)."""
    n = len(a) + len(b)
    corr = np.fft.irfft(np.conj(np.fft.rfft(a, n)) * np.fft.rfft(b, n), n)
    candidates = np.concatenate([corr[-window:], corr[: window + 1]])
    return int(np.argmax(candidates)) - window


def ebur128(path: Path, *, fmt: str | None = None) -> Loudness:
    """ffmpeg's own measurement (the reference the tests hold ours to)."""
    if fmt is None:
        return measure_final(path)
    result = ffmpeg.run([*ffmpeg.trusted_input(path, fmt=fmt), "-map", "0:a:0",
                         "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
                        timeout=60, what="measure")
    return parse_ebur128_summary(result.stderr.decode("utf-8", "replace"))


@pytest.mark.media
@pytest.mark.parametrize("kind", list(KINDS))
def test_one_pass_reaches_target_after_aac(kind, voice, tmp_path):
    """Measured in one pass (pyloudnorm + 4x true peak), normalised by gain and limiter,
    encoded to AAC: ffmpeg's ebur128 finds the target within 0.5 LU and no true peak over
    -1 dBTP. Our measurement of the input agrees with ebur128's."""
    clip = tmp_path / kind
    ffmpeg.run([*ffmpeg.trusted_input(voice), *KINDS[kind], "-y", str(clip)], timeout=60,
               what="make test clip")
    wav = extract_wav(clip, tmp_path / "in.wav")
    x = read_pcm(wav)
    ours = measure_samples(x).loudness
    theirs = ebur128(wav)
    assert abs(ours.integrated - theirs.integrated) <= 0.2, (ours, theirs)
    assert abs(ours.true_peak - theirs.true_peak) <= 0.3, (ours, theirs)

    target = LoudnessTarget()
    out = normalise(x, target)
    # Same length and no shift: lip sync depends on it.
    assert out.shape == x.shape
    assert lag(x[:, 0], out[:, 0]) == 0

    final = render.encode_audio(out, tmp_path / "final.aac")
    after = ebur128(final, fmt="aac")
    print(f"{kind}: before I={ours.integrated:.2f} TP={ours.true_peak:.2f}; "
          f"after AAC I={after.integrated} LUFS TP={after.true_peak} dBTP")
    assert abs(after.integrated - target.integrated) <= 0.5
    assert after.true_peak <= target.true_peak


@pytest.mark.media
def test_programme_loudness_from_the_clips_blocks(voice, tmp_path):
    """Two clips and silent cards, measured once each, combine into the loudness ffmpeg
    measures on them played one after the other."""
    import wave

    quiet = read_pcm(extract_wav(voice, tmp_path / "a.wav", untrusted=False)) * np.float32(0.3)
    loud = read_pcm(extract_wav(voice, tmp_path / "b.wav", untrusted=False))
    card = np.zeros((48000, 2), dtype=np.float32)
    joined = np.concatenate([card, quiet, card, loud, card])
    got = programme_loudness([measure_samples(quiet), measure_samples(loud)])
    path = tmp_path / "joined.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes((joined * 32767).astype("<i2").tobytes())
    theirs = ebur128(path)
    assert abs(got.integrated - theirs.integrated) <= 0.2, (got, theirs)
    assert abs(got.true_peak - theirs.true_peak) <= 0.3, (got, theirs)
