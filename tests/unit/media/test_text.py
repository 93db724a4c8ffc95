"""Grapheme counting and line wrapping measured on shaped text."""

from __future__ import annotations

import pytest

from workers.media.fonts import font_for
from workers.media.text import LineFitter, grapheme_len, graphemes, render_lines

LONG = {
    "en": "Stay at home. Protect the NHS. Save lives. Wash your hands often and keep two metres "
    "apart from people you do not live with.",
    "ur": "گھر پر رہیں۔ این ایچ ایس کی حفاظت کریں۔ جانیں بچائیں۔ اپنے ہاتھ اکثر دھوئیں اور "
    "دوسروں سے دو میٹر کا فاصلہ رکھیں۔",
    "hi": "घर पर रहें। एनएचएस की रक्षा करें। जीवन बचाएँ। अपने हाथ बार-बार धोएँ और दूसरों से दो "
    "मीटर की दूरी रखें।",
    "ta": "வீட்டிலேயே இருங்கள். என்.எச்.எஸ்-ஐப் பாதுகாருங்கள். உயிர்களைக் காப்பாற்றுங்கள்.",
    "zh": "待在家里。保护国民医疗服务体系（NHS）。拯救生命。经常洗手，与不同住的人保持两米距离。",
}


def _fitter(text: str, language: str, size: int = 54, width: int = 900) -> LineFitter:
    return LineFitter(font_for(text, language), size, width, language=language)


def test_graphemes_keep_clusters_whole():
    assert graphemes("👍🏽👨‍👩‍👧") == ["👍🏽", "👨‍👩‍👧"]
    assert grapheme_len("नमस्ते") < len("नमस्ते")  # स्ते is one cluster (4 code points)
    assert grapheme_len("e\u0301") == 1
    assert grapheme_len("ਰੱਖਿਆ") < len("ਰੱਖਿਆ")
    assert "".join(graphemes(LONG["hi"])) == LONG["hi"]


@pytest.mark.parametrize("language", sorted(LONG))
def test_wrap_respects_graphemes_and_pixels(language):
    text = LONG[language]
    fitter = _fitter(text, language)
    lines = fitter.wrap(text)
    assert len(lines) >= 2
    for line in lines:
        assert grapheme_len(line) <= 42
        assert fitter.width(line) <= 900
        assert line == line.strip()
    # Nothing lost, duplicated or reordered.
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    if language != "zh":
        assert " ".join(lines) == text


def test_narrow_width_and_few_graphemes():
    text = LONG["en"]
    fitter = LineFitter(font_for(text, "en"), 40, 2000, max_graphemes=20, language="en")
    lines = fitter.wrap(text)
    assert all(grapheme_len(line) <= 20 for line in lines)
    assert " ".join(lines) == text


def test_cjk_breaks_between_characters_and_keeps_latin_words():
    text = LONG["zh"]
    fitter = _fitter(text, "zh", width=600)
    lines = fitter.wrap(text)
    assert len(lines) >= 3
    assert all(fitter.width(line) <= 600 for line in lines)
    assert any("（NHS）" in line for line in lines)  # not split inside the word or brackets
    assert not any(line[0] in "。，）" for line in lines)  # no closing punctuation first
    assert "".join(lines) == text


def test_long_word_is_broken_between_graphemes():
    word = "हस्ताक्षरित" * 8
    fitter = _fitter(word, "hi", width=400)
    lines = fitter.wrap(word)
    assert len(lines) >= 2
    assert "".join(lines) == word
    for line in lines:
        assert fitter.fits(line)
    # Every break falls on a grapheme boundary.
    boundaries = set()
    pos = 0
    for cluster in graphemes(word):
        pos += len(cluster)
        boundaries.add(pos)
    pos = 0
    for line in lines[:-1]:
        pos += len(line)
        assert pos in boundaries


def test_lines_are_balanced():
    text = "Stay at home and protect the NHS so that we can save lives"
    fitter = _fitter(text, "en", width=1000)
    lines = fitter.wrap(text)
    assert len(lines) == 2
    widths = [fitter.width(line) for line in lines]
    assert max(widths) - min(widths) < 0.25 * max(widths)


def test_empty_text():
    assert _fitter("x", "en").wrap("   ") == []


@pytest.mark.parametrize("language", ["ur", "hi", "en"])
def test_rendered_lines_keep_their_ink_inside(language):
    """Nothing touches the image edge: ascenders, descenders and Nastaliq swashes are whole."""
    text = LONG[language]
    fitter = _fitter(text, language)
    block = render_lines(
        fitter.wrap(text)[:2], fitter, fill=(255, 255, 255, 255), stroke_width=3,
        stroke_fill=(0, 0, 0, 255),
    )
    alpha = block.image.getchannel("A")
    w, h = alpha.size
    edges = [alpha.crop((0, 0, w, 1)), alpha.crop((0, h - 1, w, h)), alpha.crop((0, 0, 1, h)),
             alpha.crop((w - 1, 0, w, h))]
    assert all(edge.getextrema()[1] == 0 for edge in edges)
    assert alpha.getbbox() is not None
