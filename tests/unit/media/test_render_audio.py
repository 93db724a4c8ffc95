"""Gapless AAC joins: each segment's sound is encoded once and spliced by packets.

The tests encode real AAC with ffmpeg, splice it the way the programme and the per-language
cuts are joined, decode the result and measure where each segment's beep is heard against
where its picture starts: within half an AAC packet (512 samples, 10.7 ms) after every join,
with no drift however many joins come before.
"""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pytest

from workers.media import render
from workers.media.style import SAMPLE_RATE, SAMPLES_PER_FRAME

# Frame counts chosen to hit every phase against the 1024-sample packet grid.
FRAMES = [45, 187, 203, 161, 99, 17, 250, 31, 64, 128, 77, 45]
BEEP_AT = 9000  # samples from a segment's start (after the 1024 + 9600 sample dip)


def test_packet_count_gives_back_the_segment_length() -> None:
    for frames in range(1, 20000):
        n = frames * SAMPLES_PER_FRAME
        assert render.samples_for_packets(math.ceil(n / 1024) + 1) == n


def _segment(frames: int, seed: int) -> np.ndarray:
    n = frames * SAMPLES_PER_FRAME
    t = np.arange(n) / SAMPLE_RATE
    rng = np.random.default_rng(seed)
    tone = 0.2 * np.sin(2 * np.pi * rng.uniform(150, 400) * t)
    x = np.stack([tone, 0.5 * tone], axis=1).astype(np.float32)
    beep = slice(BEEP_AT, BEEP_AT + 480)
    x[beep] += 0.5 * np.sin(2 * np.pi * 3000 * t[: 480])[:, None]
    return render.dip_audio(x)


def _decode(adts: bytes) -> np.ndarray:
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "aac", "-i", "-",
                          "-f", "f32le", "-ac", "2", "-"], input=adts, capture_output=True,
                         check=True).stdout
    return np.frombuffer(out, dtype="<f4").reshape(-1, 2)


def _beep_onset(x: np.ndarray, around: int) -> int:
    """Where the 3 kHz beep starts near ``around`` (high-passed energy crossing)."""
    lo = max(0, around - 3000)
    seg = x[lo:around + 3000, 0].astype(np.float64)
    hp = np.diff(seg, n=2)  # the 3 kHz beep dominates after two differences
    env = np.convolve(hp * hp, np.ones(48) / 48, mode="same")
    return lo + int(np.flatnonzero(env > env.max() * 0.25)[0])


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> list[list[bytes]]:
    folder = tmp_path_factory.mktemp("sound")
    packets = []
    for n, frames in enumerate(FRAMES):
        path = render.encode_audio(_segment(frames, n), folder / f"s{n}.aac")
        packets.append(render.adts_packets(path.read_bytes()))
    return packets


@pytest.mark.media
@pytest.mark.parametrize("which", ["programme", "cut"])
def test_every_segment_heard_with_its_picture_after_every_join(
        encoded: list[list[bytes]], which: str) -> None:
    chosen = list(range(len(FRAMES))) if which == "programme" else [0, 6, len(FRAMES) - 1]
    sound, errors = render.splice_audio([encoded[i] for i in chosen])
    assert all(abs(e) <= 512 for e in errors), errors
    decoded = _decode(sound)
    starts = np.cumsum([0] + [FRAMES[i] * SAMPLES_PER_FRAME for i in chosen])
    assert abs(len(decoded) - starts[-1]) <= 1024 + 512  # ends with the last silent packet
    for k, i in enumerate(chosen):
        expected = starts[k] + BEEP_AT
        heard = _beep_onset(decoded, expected)
        # the splice's own placement error, plus a few samples of onset detection
        assert abs(heard - expected - errors[k]) <= 48, (i, heard, expected, errors[k])
        assert abs(heard - expected) <= 512 + 48, (i, heard - expected)


@pytest.mark.media
def test_spliced_sound_decodes_like_each_segment_alone(
        encoded: list[list[bytes]]) -> None:
    sound, errors = render.splice_audio(encoded)
    decoded = _decode(sound)
    at = 0
    for n, frames in enumerate(FRAMES):
        samples = frames * SAMPLES_PER_FRAME
        alone = _decode(b"".join(encoded[n]))[1024:1024 + samples]
        joined = decoded[at + errors[n]:at + errors[n] + samples]
        # The same sound: only the encoder's noise floor in the dropped silent packets and
        # the random fill of AAC's noise substitution (its generator runs on from packet to
        # packet) may differ: at least 40 dB under the sound.
        diff = joined.astype(np.float64) - alone
        ratio = math.sqrt(float(np.mean(diff * diff)) / float(np.mean(alone.astype(
            np.float64) ** 2)))
        assert ratio < 0.01, (n, ratio)
        at += samples
