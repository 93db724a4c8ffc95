"""Incremental compiles and bad clips: what is re-rendered, and what a comms officer is told."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import measure
from tests.fixtures.media import hls_playlist, make_clip, not_media
from tests.unit.media.test_compile import SCRIPT, write_campaign
from workers.media.campaign_file import load_campaign
from workers.media.compile import CompileError, compile_campaign

pytestmark = pytest.mark.media


def _clip(folder: Path, name: str, **kw: object) -> None:
    make_clip(folder / "clips" / name, size=(480, 480), speech_text=" ".join(SCRIPT), **kw)


def test_changing_one_clip_re_renders_that_clip_only(tmp_path: Path) -> None:
    _clip(tmp_path, "a.mp4")
    _clip(tmp_path, "b.mp4", voice="en-us")
    clips = [
        {"file": "clips/a.mp4", "language": "en", "speaker": "A", "role": "Imam",
         "text": SCRIPT},
        {"file": "clips/b.mp4", "language": "en", "speaker": "B", "role": "Pastor",
         "text": SCRIPT},
    ]
    path = write_campaign(tmp_path, clips, intro=None, outro=None, formats=["square"])
    out = tmp_path / "out"
    first = compile_campaign(load_campaign(path).campaign, out, jobs=2)
    assert first.segments_rendered == 2
    video = out / "video-square.mp4"
    before = video.stat().st_mtime_ns

    clips[1]["role"] = "Pastor, St Mary's"  # a changed recipe for clip B only
    path = write_campaign(tmp_path, clips, intro=None, outro=None, formats=["square"])
    second = compile_campaign(load_campaign(path).campaign, out, jobs=2)
    assert second.segments_rendered == 1
    assert second.segments_reused == 1
    assert "video-square.mp4" in second.outputs_written
    assert video.stat().st_mtime_ns != before

    # the original uploads are never touched by processing
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["a.mp4", "b.mp4"]


def test_bad_clips_are_all_listed_and_skip_bad_compiles_the_rest(tmp_path: Path) -> None:
    clips_dir = tmp_path / "clips"
    _clip(tmp_path, "good.mp4")
    make_clip(clips_dir / "mute.mp4", size=(320, 240), acodec=None)
    make_clip(clips_dir / "silent.mp4", size=(320, 240), silent=True)
    make_clip(clips_dir / "short.mp4", size=(320, 240), speech_text=None, duration=0.5)
    not_media(clips_dir / "letter.mp4")
    hls_playlist(clips_dir / "playlist.mp4")
    names = ["good.mp4", "mute.mp4", "silent.mp4", "short.mp4", "letter.mp4", "playlist.mp4"]
    clips = [{"file": f"clips/{n}", "language": "en", "speaker": n, "role": "Leader",
              "text": SCRIPT} for n in names]
    path = write_campaign(tmp_path, clips, intro=None, outro=None, formats=["square"])

    with pytest.raises(CompileError) as caught:
        compile_campaign(load_campaign(path).campaign, tmp_path / "out", jobs=2)
    codes = {p.file.rsplit("/", 1)[-1]: p.code for p in caught.value.problems}
    assert codes == {"mute.mp4": "no_audio", "silent.mp4": "silent", "short.mp4": "too_short",
                     "letter.mp4": "not_media", "playlist.mp4": "unsafe_input"}
    assert not (tmp_path / "out" / "video-square.mp4").exists()

    cli = [sys.executable, "-m", "service.cli", "compile", str(path), "-o",
           str(tmp_path / "out"), "--quiet"]
    refused = subprocess.run(cli, capture_output=True, text=True, check=False)
    assert refused.returncode == 2
    for name in names[1:]:
        assert name in refused.stderr
    done = subprocess.run([*cli, "--skip-bad"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "skipped" in done.stderr and "playlist.mp4" in done.stderr
    assert (tmp_path / "out" / "video-square.mp4").exists()


def test_given_trim_subtitle_override_and_another_translation_language(tmp_path: Path) -> None:
    """A campaign SRT (times of the original file) overrides automatic timing; the line under
    each caption can be another language than the source (here Welsh)."""
    _clip(tmp_path, "ur.mp4", lead_silence=1.0)
    (tmp_path / "ur.srt").write_text(
        "1\n00:00:01,000 --> 00:00:02,200\nگھر پر رہیں۔\n\n"
        "2\n00:00:02,300 --> 00:00:03,400\nاین ایچ ایس کی حفاظت کریں۔\n\n"
        "3\n00:00:03,500 --> 00:00:04,500\nجانیں بچائیں۔\n", "utf-8")
    welsh = ["Arhoswch gartref.", "Diogelwch y GIG.", "Achubwch fywydau."]
    path = write_campaign(
        tmp_path,
        [{"file": "clips/ur.mp4", "language": "ur", "speaker": "Imran", "role": "Imam",
          "text": ["گھر پر رہیں۔", "این ایچ ایس کی حفاظت کریں۔", "جانیں بچائیں۔"],
          "trim": {"start": 0.5, "end": 4.8}, "captions": "ur.srt"}],
        intro=None, outro=None, formats=["square"], translation_language="cy",
        translations={"cy": welsh})
    result = compile_campaign(load_campaign(path).campaign, tmp_path / "out", jobs=2)
    clip = result.report["clips"][0]
    assert clip["trim"] == {"start": 0.5, "end": 4.8, "auto": False}
    cues = clip["cues"]["square"]
    assert [round(c["start"], 1) for c in cues] == [0.5, 1.8, 3.0]  # SRT times minus the trim
    assert [c["translation"] for c in cues] == [[w] for w in welsh]
    assert (tmp_path / "out" / "subtitles" / "cy.srt").read_text("utf-8").count("Arhoswch") == 1
    assert "گھر پر رہیں" in (tmp_path / "out" / "subtitles" / "ur.vtt").read_text("utf-8")
    info = measure.ffprobe_all(tmp_path / "out" / "video-square.mp4")
    assert abs(float(info["format"]["duration"]) - 4.3) < 0.05
