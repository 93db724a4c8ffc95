"""The compile engine end to end, on small generated clips of the kinds phones and browsers make.

One campaign (an MP4 H.264 landscape clip, a MediaRecorder WebM with no duration, a HEVC MOV
stored sideways with a display matrix at 25 fps with 5.1 audio; each with sync marks) is
compiled once for the module; the tests measure the outputs: codecs, frame rate, fast start,
metadata, loudness, lip sync at every clip, subtitles, cuts, posters and the report.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest

from tests.fixtures import measure
from tests.fixtures.media import (
    decode_frame,
    is_upright,
    make_clip,
    mediarecorder_webm,
    picture_marks,
)
from workers.media.campaign_file import load_campaign
from workers.media.compile import compile_campaign

pytestmark = pytest.mark.media

URDU = ["گھر پر رہیں۔", "این ایچ ایس کی حفاظت کریں۔", "جانیں بچائیں۔"]
POLISH = ["Zostań w domu.", "Chroń NHS.", "Ratuj życie."]
SCRIPT = ["Stay at home.", "Protect the NHS.", "Save lives."]


def write_campaign(folder: Path, clips: list[dict[str, object]], **extra: object) -> Path:
    import yaml

    doc: dict[str, object] = {
        "title": "Stay at Home",
        "language": "en",
        "script": SCRIPT,
        "intro": {"text": "Walsall for All", "duration": 1.5},
        "outro": {"text": "walsall.gov.uk/coronavirus", "duration": 1.5},
        "brand": {"background": "#1d3557", "text": "#ffffff", "accent": "#f1c40f"},
        "clips": clips,
        **extra,
    }
    path = folder / "campaign.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    return path


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("campaign")
    clips = folder / "clips"
    make_clip(clips / "en.mp4", container="mp4", vcodec="h264", acodec="aac",
              size=(640, 360), channels=2, marker=True,
              speech_text=" ".join(SCRIPT), voice="en-gb")
    mediarecorder_webm(clips / "pl.webm", size=(640, 480), marker=True,
                       speech_text=" ".join(POLISH), voice="pl")
    make_clip(clips / "ur.mov", container="mov", vcodec="hevc", acodec="aac",
              size=(360, 640), rotate=90, fps=25, channels=6, audio_rate=44100,
              marker=True, speech_text=" ".join(URDU), voice="ur")
    path = write_campaign(folder, [
        {"file": "clips/en.mp4", "language": "en", "speaker": "Jane Smith",
         "role": "Council Leader", "text": SCRIPT},
        {"file": "clips/pl.webm", "language": "pl", "speaker": "Anna Nowak",
         "role": "Polish Community Centre", "text": POLISH},
        {"file": "clips/ur.mov", "language": "ur", "speaker": "Imran Qureshi",
         "role": "Imam, Jamia Mosque", "text": URDU},
    ])
    out = folder / "out"
    result = compile_campaign(load_campaign(path).campaign, out, formats=["landscape", "portrait"],
                              jobs=2)
    return out, result.report


def test_videos_are_h264_high_aac_constant_30fps(compiled: tuple[Path, dict]) -> None:
    out, _ = compiled
    for name, (w, h) in {"landscape": (1920, 1080), "portrait": (1080, 1920)}.items():
        info = measure.ffprobe_all(out / f"video-{name}.mp4")
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
        assert (video["codec_name"], video["profile"]) == ("h264", "High")
        assert (video["width"], video["height"]) == (w, h)
        assert video["pix_fmt"] == "yuv420p"
        assert video["r_frame_rate"] == "30/1"
        num, den = (int(x) for x in video["avg_frame_rate"].split("/"))
        assert abs(num / den - 30) < 0.01
        assert (audio["codec_name"], int(audio["sample_rate"]), audio["channels"]) == \
            ("aac", 48000, 2)
        times = measure.frame_times(out / f"video-{name}.mp4")
        steps = {round(b - a, 3) for a, b in itertools.pairwise(times)}
        assert steps <= {0.033, 0.034}, f"irregular frame times: {sorted(steps)[:5]}"


def test_fast_start_and_no_metadata_from_inputs(compiled: tuple[Path, dict]) -> None:
    out, _ = compiled
    for video in [*out.glob("video-*.mp4"), *(out / "cuts").glob("*.mp4")]:
        boxes = measure.top_level_boxes(video)
        assert boxes.index("moov") < boxes.index("mdat"), boxes
        info = measure.ffprobe_all(video)
        tags = {k.lower() for k in info["format"].get("tags", {})}
        assert tags <= {"major_brand", "minor_version", "compatible_brands", "encoder"}, tags
        for stream in info["streams"]:
            stream_tags = {k.lower() for k in stream.get("tags", {})}
            assert stream_tags <= {"handler_name", "vendor_id", "language", "encoder"}, \
                stream_tags
            assert not stream.get("side_data_list"), "display matrix or other side data kept"


def test_loudness_target_and_true_peak_in_the_final_file(compiled: tuple[Path, dict]) -> None:
    out, report = compiled
    for name in ("landscape", "portrait"):
        integrated, peak = measure.loudness(out / f"video-{name}.mp4")
        assert abs(integrated - (-16.0)) <= 1.0, integrated
        assert peak <= -1.0, peak
    for clip in report["clips"]:  # type: ignore[index]
        assert abs(clip["loudness"]["after"]["integrated"] + 16) <= 1.0


def test_lips_in_sync_at_every_clip(compiled: tuple[Path, dict]) -> None:
    """Every flash (picture) and its beep (sound) land within 40 ms, after every join."""
    out, _ = compiled
    for name in ("landscape", "portrait"):
        video = out / f"video-{name}.mp4"
        flashes = measure.flash_times(video)
        beeps = measure.beep_times(video)
        assert len(flashes) == 6, f"{name}: flashes at {flashes}"
        for flash in flashes:
            nearest = min(beeps, key=lambda b, f=flash: abs(b - f))
            assert abs(flash - nearest) <= 0.040, \
                f"{name}: flash at {flash:.3f} s, nearest beep at {nearest:.3f} s ({beeps})"


def test_rotated_clip_comes_out_upright_and_whole(compiled: tuple[Path, dict]) -> None:
    out, report = compiled
    ur = next(c for c in report["clips"] if c["language"] == "ur")  # type: ignore[index]
    assert ur["input"]["video"]["rotation"] == 90
    assert ur["input"]["video"]["codec"] == "hevc"
    # In the portrait cut the sideways-stored portrait clip fills the frame: red band on top,
    # blue at the bottom, green block on the left, as it was filmed.
    rgb, w, h = decode_frame(out / "cuts" / "ur-portrait.mp4", at=1.5 + 1.7)
    assert (w, h) == (1080, 1920)
    assert is_upright(picture_marks(rgb, w, h)), picture_marks(rgb, w, h)
    pl = next(c for c in report["clips"] if c["language"] == "pl")  # type: ignore[index]
    assert pl["input"]["duration"] > 1.0  # measured although the header has no duration


def test_subtitles_cuts_posters_and_report(compiled: tuple[Path, dict]) -> None:
    out, report = compiled
    for lang in ("en", "pl", "ur"):
        srt = (out / "subtitles" / f"{lang}.srt").read_text("utf-8")
        vtt = (out / "subtitles" / f"{lang}.vtt").read_text("utf-8")
        assert "-->" in srt and vtt.startswith("WEBVTT")
    assert "گھر پر رہیں" in (out / "subtitles" / "ur.srt").read_text("utf-8")
    english = (out / "subtitles" / "en.srt").read_text("utf-8")
    assert english.count("Stay at home.") == 3  # the translation line of every clip
    video_len = float(measure.ffprobe_all(out / "video-landscape.mp4")["format"]["duration"])
    for name in ("landscape", "portrait"):
        for lang in ("en", "pl", "ur"):
            cut = out / "cuts" / f"{lang}-{name}.mp4"
            info = measure.ffprobe_all(cut)
            seconds = float(info["format"]["duration"])
            assert 3.0 < seconds < video_len
            assert cut.stat().st_size <= 16e6 * max(seconds / 60, 1 / 60)
        poster = measure.ffprobe_all(out / f"poster-{name}.jpg")["streams"][0]
        assert poster["codec_name"] == "mjpeg"
    assert report["schema"] == "chorus.report/1"
    saved = json.loads((out / "report.json").read_text("utf-8"))
    assert saved == report
    for clip in saved["clips"]:
        assert clip["trim"]["auto"] is True
        assert 0 <= clip["trim"]["start"] < clip["trim"]["end"]
        assert clip["cues"]["landscape"], "no captions"
        assert "before" in clip["loudness"] and "after" in clip["loudness"]


def test_recompile_with_nothing_changed_renders_and_rewrites_nothing(
        compiled: tuple[Path, dict]) -> None:
    import hashlib
    import time

    out, _ = compiled
    files = [p for p in out.rglob("*") if p.is_file() and ".cache" not in p.parts]
    before = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
              for p in files}
    campaign = load_campaign(out.parent / "campaign.yaml").campaign
    started = time.monotonic()
    result = compile_campaign(campaign, out, formats=["landscape", "portrait"], jobs=2)
    assert time.monotonic() - started < 10
    assert result.segments_rendered == 0
    assert result.outputs_written == []
    after = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
             for p in files}
    assert after == before
    assert os.access(out / "video-landscape.mp4", os.R_OK)
