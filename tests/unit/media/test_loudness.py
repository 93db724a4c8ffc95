"""Loudness: parsers on captured ffmpeg 5.1 output, and the real chain measured after AAC."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from workers.media import ffmpeg
from workers.media.errors import MediaError
from workers.media.loudness import (
    Loudness,
    LoudnessTarget,
    measure,
    measure_final,
    normalise_filter,
    normalise_wav,
    parse_ebur128_summary,
    parse_loudnorm_json,
    wav_frames,
)
from workers.media.speech import extract_wav, read_wav

# Captured from this machine's ffmpeg 5.1 (Debian 5.1.9): loudnorm pass 1 on speech...
LOUDNORM_SPEECH = """\
  Stream #0:0: Audio: pcm_s16le, 192000 Hz, stereo, s16, 6144 kb/s
    Metadata:
      encoder         : Lavc59.37.100 pcm_s16le
size=N/A time=00:00:06.86 bitrate=N/A speed=9.83x
video:0kB audio:5152kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
[Parsed_loudnorm_0 @ 0x560367375940] \n\
{
\t"input_i" : "-48.91",
\t"input_tp" : "-32.12",
\t"input_lra" : "0.80",
\t"input_thresh" : "-59.23",
\t"output_i" : "-16.33",
\t"output_tp" : "-2.00",
\t"output_lra" : "0.40",
\t"output_thresh" : "-26.73",
\t"normalization_type" : "dynamic",
\t"target_offset" : "0.33"
}
"""

# ... on digital silence (anullsrc) ...
LOUDNORM_SILENCE = """\
size=N/A time=00:00:02.00 bitrate=N/A speed=10.8x
video:0kB audio:1500kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
[Parsed_loudnorm_0 @ 0x5622b3589bc0] \n\
{
\t"input_i" : "-inf",
\t"input_tp" : "-inf",
\t"input_lra" : "0.00",
\t"input_thresh" : "-70.00",
\t"output_i" : "-inf",
\t"output_tp" : "-inf",
\t"output_lra" : "0.00",
\t"output_thresh" : "-70.00",
\t"normalization_type" : "dynamic",
\t"target_offset" : "inf"
}
"""

# ... and ebur128=peak=true summaries, on speech and on silence.
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


def test_parse_loudnorm_json():
    m = parse_loudnorm_json(LOUDNORM_SPEECH)
    assert m == Loudness(integrated=-48.91, true_peak=-32.12, lra=0.8, threshold=-59.23,
                         offset=0.33)


def test_parse_loudnorm_silence_is_an_error():
    with pytest.raises(MediaError) as err:
        parse_loudnorm_json(LOUDNORM_SILENCE)
    assert err.value.code == "silent"


def test_parse_loudnorm_without_json_is_an_error():
    with pytest.raises(MediaError) as err:
        parse_loudnorm_json("size=N/A time=00:00:02.00\n")
    assert err.value.code == "loudness_unreadable"


def test_parse_ebur128_summary():
    m = parse_ebur128_summary(EBUR128_SPEECH)
    assert (m.integrated, m.true_peak, m.lra, m.threshold) == (-20.5, -2.5, 1.4, -31.2)


def test_parse_ebur128_silence_is_an_error():
    with pytest.raises(MediaError) as err:
        parse_ebur128_summary(EBUR128_SILENCE)
    assert err.value.code == "silent"


def test_target_keeps_headroom_for_aac():
    target = LoudnessTarget()
    assert target.internal_true_peak == -2.0
    chain = normalise_filter(parse_loudnorm_json(LOUDNORM_SPEECH), target)
    assert chain.startswith("loudnorm=I=-16.00:TP=-2.00:LRA=11.00:")
    for part in ("measured_I=-48.91", "measured_TP=-32.12", "measured_LRA=0.80",
                 "measured_thresh=-59.23", "offset=0.33", "linear=true"):
        assert part in chain
    assert chain.endswith(",aresample=48000")


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


@pytest.mark.media
@pytest.mark.parametrize("kind", list(KINDS))
def test_two_pass_reaches_target_after_aac(kind, voice, tmp_path):
    clip = tmp_path / kind
    ffmpeg.run([*ffmpeg.trusted_input(voice), *KINDS[kind], "-y", str(clip)], timeout=60,
               what="make test clip")
    wav = extract_wav(clip, tmp_path / "in.wav")
    before = measure(wav)
    target = LoudnessTarget()
    out = normalise_wav(wav, tmp_path / "out.wav", before, target)

    # Same length and no shift: lip sync depends on it.
    assert wav_frames(out) == wav_frames(wav)
    a, _ = read_wav(wav)
    b, _ = read_wav(out)
    assert lag(a, b) == 0

    final = tmp_path / "final.mp4"
    ffmpeg.run([*ffmpeg.trusted_input(out), "-c:a", "aac", "-b:a", "128k",
                "-movflags", "+faststart", "-y", str(final)], timeout=60, what="encode AAC")
    after = measure_final(final)
    print(f"{kind}: before I={before.integrated} TP={before.true_peak}; "
          f"after AAC I={after.integrated} LUFS TP={after.true_peak} dBTP")
    assert abs(after.integrated - target.integrated) <= 1.0
    assert after.true_peak <= target.true_peak


@pytest.mark.media
def test_measure_refuses_silence(tmp_path):
    wav = tmp_path / "silence.wav"
    ffmpeg.run(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", "2",
                "-c:a", "pcm_s16le", "-y", str(wav)], timeout=30, what="make silence")
    with pytest.raises(MediaError) as err:
        measure(wav)
    assert err.value.code == "silent"
    assert "silence.wav" in str(err.value)
