"""The review page's still preview: the fitted picture with the segment's own overlays."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.fixtures.media import make_clip
from workers.media import ffmpeg
from workers.media.campaign import Campaign, ClipSpec
from workers.media.cards import caption_zone_top
from workers.media.compile import prepare
from workers.media.errors import MediaError
from workers.media.preview import preview_frame, preview_time
from workers.media.render import fit_filter
from workers.media.style import FORMATS, FPS, Brand

pytestmark = pytest.mark.media


def _campaign(clip: Path) -> Campaign:
    spec = ClipSpec(index=1, file=clip, language="ur", language_name=None, speaker="Imran",
                    role="Imam", sentences=("گھر پر رہیں۔",), translation=("Stay at home.",))
    return Campaign(title="T", language="en", translation_language="en", intro=None,
                    outro=None, brand=Brand(), formats=("landscape",), clips=(spec,))


@pytest.mark.parametrize("frame_name", ["landscape", "portrait"])
def test_preview_has_frame_size_a_caption_and_nothing_else_drawn(tmp_path: Path,
                                                                 frame_name: str) -> None:
    clip = make_clip(tmp_path / "c.mp4", size=(360, 640), rotate=90, speech_text="Stay home.",
                     lead_silence=0.2, tail_silence=1.5)
    campaign = _campaign(clip)
    prepared = prepare(campaign, campaign.clips[0], cache_dir=tmp_path / "cache")
    number = preview_time(1.0, prepared)
    out = preview_frame(campaign, prepared, number, frame_name, tmp_path / "p.jpg")
    frame = FORMATS[frame_name]
    bare = tmp_path / "bare.png"  # the same picture, fitted by the same filter, no overlays
    graph = "[0:v:0]null[v];" + fit_filter(frame, prepared.width, prepared.height, fill="blur",
                                           brand=campaign.brand)
    ffmpeg.run([*ffmpeg.untrusted_input(clip, seek=prepared.trim_start + number / FPS),
                "-filter_complex", graph, "-map", "[fit]", "-frames:v", "1", "-y", str(bare)],
               timeout=60, what="bare")
    box = (frame.width // 3, caption_zone_top(frame), 2 * frame.width // 3,
           frame.height - frame.margin_y)
    with Image.open(out) as image, Image.open(bare) as plain:
        assert image.size == plain.size == (frame.width, frame.height)
        captioned = list(image.convert("L").crop(box).getdata())
        without = list(plain.convert("L").crop(box).getdata())
        changed = sum(abs(a - b) > 40 for a, b in zip(captioned, without, strict=True))
        assert changed > len(captioned) * 0.05  # the caption block is drawn...
        assert max(captioned) > 200  # ...with white text
        top = (0, 0, frame.width, frame.height // 5)  # above the lower third: untouched
        a = list(image.convert("L").crop(top).getdata())
        b = list(plain.convert("L").crop(top).getdata())
        assert sum(abs(x - y) > 40 for x, y in zip(a, b, strict=True)) < len(a) * 0.01


def test_preview_time_is_clamped_to_the_clip_and_refuses_non_numbers(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", size=(640, 360), speech_text="Stay home.")
    campaign = _campaign(clip)
    prepared = prepare(campaign, campaign.clips[0], cache_dir=tmp_path / "cache")
    assert preview_time(1e308, prepared) == prepared.frames - 1
    assert preview_time(0.5 + 0.2 / FPS, prepared) == preview_time(0.5, prepared) == 15
    for bad in (float("nan"), float("inf"), -0.1):
        with pytest.raises(MediaError) as err:
            preview_time(bad, prepared)
        assert err.value.code == "bad_time"
