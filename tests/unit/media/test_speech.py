"""Speech detection on real espeak-ng speech with known silence, through real decoding."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from workers.media import ffmpeg
from workers.media.errors import MediaError
from workers.media.speech import (
    Trim,
    auto_trim,
    extract_wav,
    is_silent,
    pauses,
    read_wav,
    speech_regions,
)

pytestmark = pytest.mark.media

LEAD_IN = 0.8
TAIL = 1.2
TOLERANCE = 0.030
TEXT = "Stay at home. Protect the health service. Save lives."


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    pcm = np.clip(samples * 32767, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def encode(src: Path, out: Path, *args: str) -> Path:
    ffmpeg.run([*ffmpeg.trusted_input(src), *args, "-y", str(out)], timeout=60,
               what="make test clip")
    return out


class Speech:
    """A clip of espeak speech padded with silence and low noise, and where speech truly is."""

    def __init__(self, root: Path, *, gain_db: float, noise_db: float, seed: int = 7):
        if shutil.which("espeak-ng") is None:
            raise RuntimeError("espeak-ng is required for these tests (apt-get install espeak-ng)")
        raw = root / "espeak.wav"
        subprocess.run(["espeak-ng", "-v", "en", "-w", str(raw), TEXT], check=True)
        voice, rate = read_wav(raw)
        # Truth from the clean synthesis: first/last sample above -40 dB of its peak.
        loud = np.flatnonzero(np.abs(voice) > np.abs(voice).max() * 10 ** (-40 / 20))
        self.start = LEAD_IN + loud[0] / rate
        self.end = LEAD_IN + (loud[-1] + 1) / rate
        voice = voice / np.abs(voice).max() * 10 ** (gain_db / 20)
        signal = np.concatenate([np.zeros(round(LEAD_IN * rate)), voice,
                                 np.zeros(round(TAIL * rate))])
        rng = np.random.default_rng(seed)
        signal = signal + rng.normal(0, 10 ** (noise_db / 20), len(signal))
        self.duration = len(signal) / rate
        self.wav = write_wav(root / f"speech{gain_db}{noise_db}.wav", signal, rate)


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Speech:
    return Speech(tmp_path_factory.mktemp("speech"), gain_db=-3, noise_db=-60)


@pytest.fixture(scope="module")
def quiet(tmp_path_factory) -> Speech:
    return Speech(tmp_path_factory.mktemp("quiet"), gain_db=-30, noise_db=-80)


# Phone and browser sound tracks: AAC stereo 48 kHz in MP4, Opus in WebM, 8 kHz mono, 5.1.
KINDS = {
    "aac-stereo.mp4": ["-ar", "48000", "-ac", "2", "-c:a", "aac", "-b:a", "128k"],
    "opus.webm": ["-ar", "48000", "-ac", "2", "-c:a", "libopus", "-b:a", "64k"],
    "mono-8k.mp4": ["-ar", "8000", "-ac", "1", "-c:a", "aac", "-b:a", "32k"],
    "surround-44k.mp4": ["-af", "pan=5.1|FL=0.5*c0|FR=0.5*c0|FC=c0|LFE=0.1*c0|BL=0.2*c0|BR=0.2*c0",
                         "-ar", "44100", "-c:a", "aac", "-b:a", "192k"],
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_speech_start_and_end_found_within_30_ms(kind, speech, tmp_path):
    clip = encode(speech.wav, tmp_path / kind, *KINDS[kind])
    wav = extract_wav(clip, tmp_path / "a.wav")
    with wave.open(str(wav)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 48000, 2)
    samples, rate = read_wav(wav)
    # AAC at 8 kHz pads up to a 128 ms frame at the end.
    assert abs(len(samples) / rate - speech.duration) < 0.15
    regions = speech_regions(samples, rate)
    start, end = regions[0][0], regions[-1][1]
    print(f"{kind}: start error {1000 * (start - speech.start):+.1f} ms, "
          f"end error {1000 * (end - speech.end):+.1f} ms")
    assert abs(start - speech.start) <= TOLERANCE
    assert abs(end - speech.end) <= TOLERANCE
    assert not is_silent(samples, rate)


def test_quiet_speech_is_found_too(quiet, tmp_path):
    """A fixed -40 dBFS gate misses speech peaking at -30 dBFS; the adaptive one does not."""
    clip = encode(quiet.wav, tmp_path / "q.mp4", "-c:a", "aac", "-b:a", "128k")
    samples, rate = read_wav(extract_wav(clip, tmp_path / "q.wav"))
    regions = speech_regions(samples, rate)
    assert abs(regions[0][0] - quiet.start) <= TOLERANCE
    assert abs(regions[-1][1] - quiet.end) <= TOLERANCE
    assert not is_silent(samples, rate)


def test_sentences_give_separate_regions_and_pauses(speech):
    samples, rate = read_wav(speech.wav)
    regions = speech_regions(samples, rate)
    assert len(regions) >= 3  # three sentences, pauses between
    gaps = pauses(regions)
    assert len(gaps) == len(regions) - 1
    assert all(b - a >= 0.2 for a, b in gaps)


def test_auto_trim_keeps_a_natural_margin(speech):
    samples, rate = read_wav(speech.wav)
    trim = auto_trim(speech_regions(samples, rate), speech.duration)
    assert trim.auto
    assert abs(trim.start - (speech.start - 0.35)) <= TOLERANCE
    assert abs(trim.end - (speech.end + 0.6)) <= TOLERANCE


def test_auto_trim_clamps_and_keeps_everything_without_speech():
    assert auto_trim([(0.1, 2.0)], 2.2) == Trim(0.0, 2.2, True)
    assert auto_trim([], 5.0) == Trim(0.0, 5.0, True)
    assert auto_trim([(1.0, 2.0), (3.0, 4.0)], 10.0) == Trim(0.65, 4.6, True)


def test_extract_with_start_and_duration_gives_exact_length(speech, tmp_path):
    clip = encode(speech.wav, tmp_path / "c.webm", *KINDS["opus.webm"])
    wav = extract_wav(clip, tmp_path / "part.wav", start=0.5, duration=2.0)
    samples, rate = read_wav(wav)
    assert len(samples) == 96000
    regions = speech_regions(samples, rate)
    assert abs(regions[0][0] - (speech.start - 0.5)) <= TOLERANCE
    # Asking for more than is there pads with silence to the exact length.
    wav = extract_wav(clip, tmp_path / "long.wav", start=speech.duration - 1.0, duration=3.0)
    assert len(read_wav(wav)[0]) == 144000


def test_surround_downmix_and_mono_upmix_fill_both_channels(speech, tmp_path):
    for kind in ("surround-44k.mp4", "mono-8k.mp4"):
        clip = encode(speech.wav, tmp_path / kind, *KINDS[kind])
        wav = extract_wav(clip, tmp_path / f"{kind}.wav")
        with wave.open(str(wav)) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
        left, right = pcm[:, 0].astype(float), pcm[:, 1].astype(float)
        assert np.sqrt(np.mean(left**2)) > 100 and np.sqrt(np.mean(right**2)) > 100
        assert np.corrcoef(left, right)[0, 1] > 0.95


def test_silence_and_noise_are_silent(tmp_path):
    rng = np.random.default_rng(3)
    rate = 48000
    assert is_silent(np.zeros(rate * 3, dtype=np.float32), rate)
    hiss = rng.normal(0, 10 ** (-70 / 20), rate * 3).astype(np.float32)
    assert is_silent(hiss, rate)
    clip = encode(write_wav(tmp_path / "n.wav", hiss, rate), tmp_path / "n.mp4",
                  "-c:a", "aac", "-b:a", "64k")
    assert is_silent(*read_wav(extract_wav(clip, tmp_path / "n2.wav")))


def test_a_cough_is_not_a_message():
    rate = 48000
    t = np.arange(int(0.2 * rate)) / rate
    burst = 0.3 * np.sin(2 * np.pi * 300 * t)
    signal = np.concatenate([np.zeros(rate), burst, np.zeros(rate)]).astype(np.float32)
    assert is_silent(signal, rate)  # under 0.3 s of sound in total


def test_clicks_are_dropped_and_short_gaps_closed():
    rate = 48000
    rng = np.random.default_rng(5)

    def tone(seconds: float) -> np.ndarray:
        t = np.arange(int(seconds * rate)) / rate
        return 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.3 * np.sin(2 * np.pi * 4 * t))

    def gap(seconds: float) -> np.ndarray:
        return np.zeros(int(seconds * rate))

    signal = np.concatenate([gap(0.5), tone(0.04), gap(0.5),     # a 40 ms click
                             tone(0.6), gap(0.12), tone(0.5),    # one phrase
                             gap(0.6), tone(0.7), gap(0.5)])
    signal = (signal + rng.normal(0, 1e-4, len(signal))).astype(np.float32)
    regions = speech_regions(signal, rate)
    assert len(regions) == 2
    assert regions[0][0] == pytest.approx(1.04, abs=0.015)
    assert regions[0][1] == pytest.approx(2.26, abs=0.015)
    assert regions[1][0] == pytest.approx(2.86, abs=0.015)


def test_a_clip_without_sound_is_refused(tmp_path):
    clip = tmp_path / "mute.mp4"
    ffmpeg.run(["-f", "lavfi", "-i", "color=c=blue:s=64x64:r=30:d=1", "-c:v", "libx264",
                "-y", str(clip)], timeout=60, what="make test clip")
    with pytest.raises(MediaError) as err:
        extract_wav(clip, tmp_path / "x.wav")
    assert err.value.code == "no_audio"
    assert "mute.mp4" in str(err.value)
