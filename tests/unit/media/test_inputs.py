"""Every kind of input phones and browsers make compiles into the same kind of segment.

One single-clip campaign per input kind (square frame, no cards, to stay quick): the output is
constant 30 fps, 48 kHz stereo AAC at the loudness target, as long as the trimmed speech.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import measure
from tests.fixtures.media import make_clip, mediarecorder_webm
from tests.unit.media.test_compile import SCRIPT, write_campaign
from workers.media.campaign_file import load_campaign
from workers.media.compile import compile_campaign

pytestmark = pytest.mark.media

KINDS: dict[str, dict[str, Any]] = {
    "mp4-h264-60fps-mono8k": dict(container="mp4", vcodec="h264", fps=60, audio_rate=8000,
                                  channels=1),
    "webm-vp9-opus-24fps-5.1": dict(container="webm", vcodec="vp9", acodec="opus", fps=24,
                                    channels=6),
    "webm-av1-opus": dict(container="webm", vcodec="av1", acodec="opus", size=(320, 240)),
    "mp4-vfr-portrait": dict(container="mp4", vcodec="h264", vfr=True, size=(360, 640)),
    "mov-h264-rotate270-pcm": dict(container="mov", vcodec="h264", acodec="pcm_s16le",
                                   rotate=270, size=(360, 640), audio_rate=44100, channels=2),
}


@pytest.mark.parametrize("kind", [*list(KINDS), "mediarecorder-webm"])
def test_input_kind_compiles(tmp_path: Path, kind: str) -> None:
    clip = tmp_path / "clips" / ("c.webm" if "webm" in kind else f"c.{kind.split('-')[0]}")
    if kind == "mediarecorder-webm":
        clip.parent.mkdir(parents=True)
        mediarecorder_webm(clip, size=(320, 240), speech_text=" ".join(SCRIPT))
    else:
        make_clip(clip, speech_text=" ".join(SCRIPT), **KINDS[kind])
    path = write_campaign(tmp_path, [{"file": f"clips/{clip.name}", "language": "en",
                                      "speaker": "Jane", "role": "Nurse", "text": SCRIPT}],
                          intro=None, outro=None, formats=["square"])
    result = compile_campaign(load_campaign(path).campaign, tmp_path / "out", jobs=2)
    video = tmp_path / "out" / "video-square.mp4"
    info = measure.ffprobe_all(video)
    v = next(s for s in info["streams"] if s["codec_type"] == "video")
    a = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (v["width"], v["height"], v["r_frame_rate"]) == (1080, 1080, "30/1")
    assert (int(a["sample_rate"]), a["channels"]) == (48000, 2)
    clip_report = result.report["clips"][0]
    expected = clip_report["trim"]["end"] - clip_report["trim"]["start"]
    assert abs(float(info["format"]["duration"]) - expected) < 0.05
    integrated, peak = measure.loudness(video)
    assert abs(integrated + 16) <= 1.0 and peak <= -1.0
