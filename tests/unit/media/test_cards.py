"""Caption blocks, lower thirds and cards stay inside the safe area in every format."""

from __future__ import annotations

import pytest
from PIL import Image

from workers.media.cards import (
    Overlay,
    caption_fitters,
    caption_zone_top,
    render_caption,
    render_card,
    render_lower_third,
)
from workers.media.errors import MediaError
from workers.media.style import FORMATS, Brand, Frame

TEXTS = {
    "en": "Stay at home. Protect the NHS. Save lives. Wash your hands often and keep apart.",
    "ur": "گھر پر رہیں۔ این ایچ ایس کی حفاظت کریں۔ جانیں بچائیں۔ اپنے ہاتھ اکثر دھوئیں اور "
    "دوسروں سے فاصلہ رکھیں۔",
    "ta": "வீட்டிலேயே இருங்கள். என்.எச்.எஸ்-ஐப் பாதுகாருங்கள். உயிர்களைக் காப்பாற்றுங்கள்.",
}
BRAND = Brand("#1d3557", "#ffffff", "#f1c40f")


def assert_in_safe_area(overlay: Overlay, frame: Frame) -> None:
    with Image.open(overlay.path) as img:
        assert img.size == (overlay.width, overlay.height)
        assert img.mode == "RGBA"
    assert overlay.x >= frame.margin_x
    assert overlay.y >= frame.margin_y
    assert overlay.x + overlay.width <= frame.width - frame.margin_x
    assert overlay.y + overlay.height <= frame.height - frame.margin_y


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("native", sorted(TEXTS))
@pytest.mark.parametrize("translation", ["en", "ur"])
def test_caption_two_plus_two_lines_inside_safe_area(tmp_path, fmt, native, translation):
    frame = FORMATS[fmt]
    native_fit, translation_fit = caption_fitters(
        frame, TEXTS[native], native, TEXTS[translation], translation
    )
    assert translation_fit is not None
    assert native_fit.size_px > translation_fit.size_px
    native_lines = native_fit.wrap(TEXTS[native])[:2]
    translation_lines = translation_fit.wrap(TEXTS[translation])[:2]
    assert len(native_lines) == 2 and len(translation_lines) == 2
    overlay = render_caption(
        frame, native_lines, native, translation_lines, translation, tmp_path / "c.png"
    )
    assert_in_safe_area(overlay, frame)
    assert overlay.y + overlay.height == frame.height - frame.margin_y  # bottom-anchored
    assert abs(overlay.x + overlay.width / 2 - frame.width / 2) <= 1  # centred
    assert overlay.y >= caption_zone_top(frame)
    assert overlay.width < frame.width  # cropped to the block, not the full frame


def test_caption_without_translation_and_absurd_line(tmp_path):
    frame = FORMATS["portrait"]
    line = "Supercalifragilisticexpialidocious " * 6  # far wider than the frame
    overlay = render_caption(frame, [line], "en", [], None, tmp_path / "c.png")
    assert_in_safe_area(overlay, frame)
    with pytest.raises(ValueError):
        render_caption(frame, [" "], "en", [], None, tmp_path / "d.png")


def test_caption_is_semi_transparent_box_with_text(tmp_path):
    frame = FORMATS["landscape"]
    overlay = render_caption(
        frame, ["Stay at home."], "en", ["گھر پر رہیں۔"], "ur", tmp_path / "c.png"
    )
    with Image.open(overlay.path) as img:
        alpha = img.getchannel("A")
        corner_inside = alpha.getpixel((overlay.width // 2, 2))
        assert 60 < corner_inside < 255  # see-through box
        colours = {c for _, c in img.convert("RGB").getcolors(1 << 20)}
    assert (255, 255, 255) in colours


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize(
    ("language", "native_name", "english", "speaker", "role"),
    [
        ("ur", "اردو", "Urdu", "عمران قریشی", "Imam, Jamia Mosque"),
        ("ta", "தமிழ்", "Tamil", "Kavitha Raman", "Tamil Welfare Association, Walsall branch"),
        ("pl", "polski", "Polish", "Anna Nowak-Wiśniewska", "Polish Community Centre " * 3),
    ],
)
def test_lower_third_above_captions(tmp_path, fmt, language, native_name, english, speaker, role):
    frame = FORMATS[fmt]
    overlay = render_lower_third(
        frame, native_name, english, speaker, role, BRAND, tmp_path / "lt.png", language=language
    )
    assert_in_safe_area(overlay, frame)
    assert overlay.y + overlay.height <= caption_zone_top(frame)
    if language == "ur":  # right-to-left: aligned to the right edge of the safe area
        assert overlay.x + overlay.width == frame.width - frame.margin_x
    else:
        assert overlay.x == frame.margin_x


def _logo(path, size=(400, 200)):
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    img.paste((230, 60, 60, 255), (50, 50, size[0] - 50, size[1] - 50))
    img.save(path)
    return path


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_card_with_logo(tmp_path, fmt):
    frame = FORMATS[fmt]
    out = render_card(
        frame, "Walsall for All — stay at home", BRAND, tmp_path / "card.png",
        logo=_logo(tmp_path / "logo.png"), language="en",
    )
    with Image.open(out) as img:
        assert img.size == (frame.width, frame.height)
        assert img.mode == "RGB"
        rgb = img.convert("RGB")
        assert rgb.getpixel((2, 2)) == (0x1D, 0x35, 0x57)
        red = [p for p in rgb.getdata() if p == (230, 60, 60)]
        assert red  # logo drawn
        text_box = Image.eval(rgb.convert("L"), lambda v: 255 if v > 200 else 0).getbbox()
    assert text_box is not None
    left, top, right, bottom = text_box
    assert left >= frame.margin_x and right <= frame.width - frame.margin_x
    assert top >= frame.margin_y and bottom <= frame.height - frame.margin_y


def test_card_long_text_any_script(tmp_path):
    frame = FORMATS["portrait"]
    text = TEXTS["ta"] + " " + TEXTS["ta"]
    out = render_card(frame, text, BRAND, tmp_path / "card.png", language="ta")
    with Image.open(out) as img:
        white = Image.eval(img.convert("L"), lambda v: 255 if v > 200 else 0).getbbox()
    assert white is not None
    assert white[0] >= frame.margin_x and white[2] <= frame.width - frame.margin_x
    assert white[1] >= frame.margin_y and white[3] <= frame.height - frame.margin_y


def test_bad_logo(tmp_path):
    bad = tmp_path / "logo.png"
    bad.write_bytes(b"this is not an image")
    with pytest.raises(MediaError) as excinfo:
        render_card(FORMATS["square"], "Hi", BRAND, tmp_path / "c.png", logo=bad)
    assert excinfo.value.code == "bad_logo"
    assert "logo.png" in str(excinfo.value)
    with pytest.raises(MediaError, match="logo"):
        render_card(FORMATS["square"], "Hi", BRAND, tmp_path / "c.png", logo=tmp_path / "no.png")


def test_huge_logo_is_refused(tmp_path):
    big = tmp_path / "big.png"
    Image.new("L", (9000, 9000), 0).save(big)  # 81 MP, compresses to a few KB
    with pytest.raises(MediaError) as excinfo:
        render_card(FORMATS["square"], "Hi", BRAND, tmp_path / "c.png", logo=big)
    assert excinfo.value.code == "bad_logo"
