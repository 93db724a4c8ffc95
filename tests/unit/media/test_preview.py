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
    bare = preview_frame(clip, 0.5, frame_name, [], "ur", [], "en", tmp_path / "bare.jpg")
    frame = FORMATS[frame_name]
    box = (frame.width // 3, caption_zone_top(frame), 2 * frame.width // 3,
           frame.height - frame.margin_y)
    with Image.open(out) as image, Image.open(bare) as plain:
        assert image.size == plain.size == (frame.width, frame.height)
        captioned = list(image.convert("L").crop(box).getdata())
        without = list(plain.convert("L").crop(box).getdata())
        # the caption block (a dark box with white text) changed the caption zone...
        changed = sum(abs(a - b) > 40 for a, b in zip(captioned, without, strict=True))
        assert changed > len(captioned) * 0.05
        assert max(captioned) > 200  # ...and holds white text
        # ...and nothing above it: the picture itself is untouched there
        top = (0, 0, frame.width, caption_zone_top(frame) // 2)
        a = list(image.convert("L").crop(top).getdata())
        b = list(plain.convert("L").crop(top).getdata())
        assert sum(abs(x - y) > 40 for x, y in zip(a, b, strict=True)) < len(a) * 0.01
