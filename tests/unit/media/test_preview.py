"""The review page's still preview: fitted picture plus a caption block in the right place."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.fixtures.media import make_clip
from workers.media.cards import caption_zone_top
from workers.media.preview import preview_frame
from workers.media.style import FORMATS

pytestmark = pytest.mark.media


@pytest.mark.parametrize("frame_name", ["landscape", "portrait"])
def test_preview_has_frame_size_and_a_caption_band(tmp_path: Path, frame_name: str) -> None:
    clip = make_clip(tmp_path / "c.mp4", size=(360, 640), rotate=90, speech_text="Stay home.")
    out = preview_frame(clip, 0.5, frame_name, ["گھر پر رہیں۔"], "ur", ["Stay at home."], "en",
                        tmp_path / "p.jpg")
    frame = FORMATS[frame_name]
    with Image.open(out) as image:
        assert image.size == (frame.width, frame.height)
        gray = image.convert("L")
        # the caption box (dark, with white text) sits in the caption zone, centred
        zone = gray.crop((frame.width // 3, caption_zone_top(frame), 2 * frame.width // 3,
                          frame.height - frame.margin_y))
        assert max(zone.getdata()) > 200  # white caption text
