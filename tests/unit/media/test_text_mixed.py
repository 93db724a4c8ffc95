"""Lines that mix scripts: Urdu or Bengali with "NHS", a web address, a Polish sentence with an
Urdu name, an English card with Urdu, emoji.

Each line is itemised into runs (one script, one bidi level), every run drawn in the font of its
own script, in visual order on one baseline. Checked here: the run/font mapping covers every
character (no tofu), widths add up, lines fit the safe area, and Tesseract reads the words back
in the right places (Latin at the right end of a right-to-left Urdu line).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytesseract
import pytest
from fontTools.ttLib import TTCollection, TTFont
from PIL import Image, ImageFont

from tests.unit.media.test_caption_ocr import _ocr_image, similarity
from workers.media.bidi import bidi_levels, paragraph_direction, visual_order
from workers.media.cards import caption_fitters, render_caption, render_card, render_lower_third
from workers.media.font_choice import FontChoice
from workers.media.fonts import font_for
from workers.media.runs import text_runs
from workers.media.style import FORMATS, Brand, Frame
from workers.media.text import LineFitter, render_lines, run_width

BRAND = Brand("#1d3557", "#ffffff", "#f1c40f")
OCR_TEXT_PX = 30

# (text, language): the captions of the brief, and some harder ones
MIXED = [
    ("NHS کی حفاظت کریں۔", "ur"),
    ("walsall.gov.uk پر جائیں", "ur"),
    ("COVID-19 سے بچنے کے لیے walsall.gov.uk/coronavirus دیکھیں۔", "ur"),
    ("গ্রহণ করুন COVID-19 টিকা, NHS-কে সাহায্য করুন", "bn"),
    ("Pan Imran Qureshi (عمران قریشی) mówi: zostań w domu.", "pl"),
    ("Walsall for All — سب کے لیے", "en"),
    ("گھر (NHS) پر 2020 میں رہیں", "ur"),
    ("ਘਰ ਰਹੋ, NHS ਦੀ ਰੱਖਿਆ ਕਰੋ", "pa"),
    ("Stay at home 😷 protect the NHS 👍🏽", "en"),
]


def _cmap(font: FontChoice) -> set[int]:
    if font.path.endswith(".ttc"):
        return set(TTCollection(font.path, lazy=True).fonts[font.index].getBestCmap())
    return set(TTFont(font.path, lazy=True).getBestCmap())


@pytest.fixture(scope="module", autouse=True)
def _one_ocr_thread() -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@pytest.mark.parametrize(("text", "language"), MIXED, ids=[m[1] + str(i) for i, m in
                                                           enumerate(MIXED)])
def test_every_character_drawn_by_a_font_that_covers_it(text, language):
    """No tofu: each run's characters are all in its font's character map."""
    font = font_for(text, language)
    runs = text_runs(text, language, font=font)
    assert "".join(r.text for r in runs) == text  # logical order, nothing lost
    assert len({r.font.path for r in runs}) >= 2  # really mixed
    for run in runs:
        visible = {ord(c) for c in run.text if not c.isspace() and c not in "\u200c\u200d"}
        assert visible <= _cmap(run.font), (run.text, run.font.family)


def test_fonts_follow_the_script_of_each_run():
    font = font_for("NHS کی حفاظت کریں۔", "ur")
    runs = {r.text.strip(): r for r in text_runs("NHS کی حفاظت کریں۔", "ur", font=font)}
    assert runs["NHS"].font.family == "Noto Sans"
    assert runs["کی حفاظت کریں۔"].font.family == "Noto Nastaliq Urdu"
    assert runs["کی حفاظت کریں۔"].language == "ur" and runs["NHS"].language is None
    # An Urdu phrase on an English card still gets Nastaliq (Urdu-only letters: ے).
    card = font_for("Walsall for All — سب کے لیے", "en")
    families = {r.script: r.font.family for r in text_runs("Walsall for All — سب کے لیے", "en",
                                                          font=card)}
    assert families == {"Latn": "Noto Sans", "Arab": "Noto Nastaliq Urdu"}
    # Emoji come from the colour emoji font.
    emoji = [r for r in text_runs("Stay at home 😷", "en") if r.script == "Zsye"]
    assert emoji and emoji[0].font.family == "Noto Color Emoji" and emoji[0].text == "😷"


def test_common_characters_join_the_neighbouring_run():
    runs = text_runs("گھر (NHS) پر 2020 رہیں", "ur", direction="rtl")
    scripts = [(r.text, r.script) for r in runs]
    # "(" takes the script of what follows, ")" that of its opening bracket, the digits and
    # spaces that of the preceding letters.
    assert ("NHS", "Latn") in scripts
    assert any(t.startswith(")") and s == "Latn" for t, s in scripts)
    assert ("2020", "Arab") in scripts
    assert all(s in ("Latn", "Arab") for _, s in scripts)


def test_bidi_levels_and_visual_order():
    # Numbers inside right-to-left text stay left-to-right.
    text = "گھر پر 2020 رہیں"
    levels = bidi_levels(text, "rtl")
    assert levels[text.index("2020")] == 2 and levels[0] == 1
    # An Urdu sentence that starts with a web address is still right-to-left: the address
    # goes to the right end.
    assert paragraph_direction("walsall.gov.uk پر جائیں", "ur") == "rtl"
    assert paragraph_direction("walsall.gov.uk پر جائیں") == "ltr"  # first strong, no language
    order = visual_order(text_runs("walsall.gov.uk پر جائیں", "ur"))
    assert order[-1].text == "walsall.gov.uk"
    assert order[0].text.strip() == "پر جائیں" and order[0].direction == "rtl"
    # Left-to-right paragraph with an embedded right-to-left name: the name stays in place.
    order = visual_order(text_runs("Pan Imran (عمران قریشی) mówi", "pl"))
    words = [r for r in order if any(c.isalpha() for c in r.text)]
    assert [(r.script, r.direction) for r in words] == [
        ("Latn", "ltr"), ("Arab", "rtl"), ("Latn", "ltr")
    ]
    assert words[1].text == "عمران قریشی"


@pytest.mark.parametrize(("text", "language"), MIXED[:6])
def test_width_is_the_sum_of_run_advances(text, language):
    fitter = LineFitter(font_for(text, language), 54, 10**5, max_graphemes=10**3,
                        language=language)
    runs = fitter.runs(text)
    assert runs is not None
    independent = 0.0
    for run in runs:  # each run measured on its own, straight through Pillow
        pil = ImageFont.truetype(run.font.path, 54, index=run.font.index,
                                 layout_engine=ImageFont.Layout.RAQM)
        independent += pil.getlength(run.text, direction=run.direction, language=run.language)
        assert run_width(run, 54) == pytest.approx(
            pil.getlength(run.text, direction=run.direction, language=run.language)
        )
    assert abs(fitter.width(text) - independent) <= 2
    # The ink drawn spans about that width (glyphs may overhang their advance a little).
    block = render_lines([text], fitter, fill=(255, 255, 255, 255))
    left, _, right, _ = block.image.getchannel("A").getbbox()
    assert 0.85 * independent <= right - left <= independent + 54 // 2


def test_single_script_lines_keep_the_fast_path():
    urdu = "گھر پر 2020 میں رہیں۔"
    fitter = LineFitter(font_for(urdu, "ur"), 54, 2000, language="ur")
    assert fitter.runs(urdu) is None
    assert fitter.runs("NHS") is not None  # Latin line under an Urdu font: its own run


def test_wrap_uses_the_mixed_width():
    text = ("COVID-19 سے بچنے کے لیے walsall.gov.uk/coronavirus دیکھیں اور NHS کی "
            "حفاظت کریں۔ ہاتھ دھوئیں اور فاصلہ رکھیں۔")
    fitter = LineFitter(font_for(text, "ur"), 54, 700, language="ur")
    lines = fitter.wrap(text)
    assert len(lines) >= 3
    assert " ".join(lines) == text
    for line in lines:
        assert fitter.width(line) <= 700
    # a wrapped line starting with Latin stays in the paragraph's right-to-left direction
    assert all(r.level >= 1 for line in lines for r in fitter.runs(line) or [])


def _assert_inside(overlay_xywh: tuple[int, int, int, int], frame: Frame) -> None:
    x, y, w, h = overlay_xywh
    assert frame.margin_x <= x and x + w <= frame.width - frame.margin_x
    assert frame.margin_y <= y and y + h <= frame.height - frame.margin_y


@pytest.mark.parametrize("fmt", ["landscape", "portrait"])
def test_examples_render_inside_the_safe_area(tmp_path: Path, fmt: str):
    frame = FORMATS[fmt]
    for i, (text, language) in enumerate(MIXED):
        native, _ = caption_fitters(frame, text, language, "Protect the NHS.", "en")
        lines = native.wrap(text)[:2]
        for line in lines:
            assert native.fits(line)
        overlay = render_caption(frame, lines, language, ["Protect the NHS."], "en",
                                 tmp_path / f"cap{i}.png")
        _assert_inside((overlay.x, overlay.y, overlay.width, overlay.height), frame)
    lower = render_lower_third(frame, "தமிழ்", "Tamil", "Kavitha Raman",
                               "தமிழ் நலச் சங்கம், Walsall", BRAND, tmp_path / "lt.png",
                               language="ta")
    _assert_inside((lower.x, lower.y, lower.width, lower.height), frame)
    lower = render_lower_third(frame, "polski", "Polish", "Anna Nowak",
                               "Tłumaczka, współpracuje z عمران قریشی", BRAND,
                               tmp_path / "lt2.png", language="pl")
    _assert_inside((lower.x, lower.y, lower.width, lower.height), frame)
    card = render_card(frame, "Walsall for All — سب کے لیے", BRAND, tmp_path / "card.png",
                       language="en")
    with Image.open(card) as img:
        ink = Image.eval(img.convert("L"), lambda v: 255 if v > 200 else 0).getbbox()
    assert ink is not None
    _assert_inside((ink[0], ink[1], ink[2] - ink[0], ink[3] - ink[1]), frame)


def _ocr_words(png: Path, size_px: int, lang: str) -> list[tuple[str, int, int]]:
    """(word, left, right) of every word Tesseract finds, in image pixels of the OCR image."""
    image = _ocr_image(png, OCR_TEXT_PX / size_px)
    data = pytesseract.image_to_data(image, lang=lang, config="--psm 7",
                                     output_type=pytesseract.Output.DICT)
    return [(w, data["left"][i], data["left"][i] + data["width"][i])
            for i, w in enumerate(data["text"]) if w.strip()]


def test_rtl_line_reads_back_with_nhs_at_the_right_end(tmp_path: Path):
    frame = FORMATS["landscape"]
    text = "NHS کی حفاظت کریں"
    native, _ = caption_fitters(frame, text, "ur", None, None)
    overlay = render_caption(frame, [text], "ur", [], None, tmp_path / "ur.png")
    words = _ocr_words(overlay.path, native.size_px, "urd+eng")
    print(words)
    nhs = [w for w in words if "NHS" in w[0]]
    assert nhs, f"NHS not read: {words}"
    others = [w for w in words if "NHS" not in w[0]]
    assert others
    # NHS (first in logical order) is drawn at the right end of the right-to-left line.
    assert all(nhs[0][1] >= o[2] - 2 for o in others)
    # The Urdu words read back (Tesseract's urd model is weak on short Nastaliq lines: a
    # single-script line of the same words reads about as well), and not mirrored.
    urdu = "کی حفاظت کریں"
    read = pytesseract.image_to_string(_ocr_image(overlay.path, OCR_TEXT_PX / native.size_px),
                                       lang="urd", config="--psm 7")
    print(repr(read))
    assert similarity(read, urdu) >= 0.55, read
    assert similarity(read, urdu) > similarity(read, urdu[::-1]) + 0.2
    # Pixel check: cut the drawn line where the layout puts the Latin run (its advance at the
    # right end); the right piece reads "NHS" alone, the left piece holds the Urdu ink.
    runs = native.runs(text)
    assert runs is not None and runs[-1].text == "NHS"
    block = render_lines([text], native, fill=(255, 255, 255, 255), stroke_width=2,
                         stroke_fill=(0, 0, 0, 255))
    alpha = block.image.getchannel("A")
    _, _, ink_right, _ = alpha.getbbox()
    cut = ink_right - run_width(runs[-1], native.size_px) - native.size_px * 0.1
    right = block.image.crop((int(cut), 0, block.image.width, block.image.height))
    left = block.image.crop((0, 0, int(cut), block.image.height))
    assert left.getchannel("A").getbbox() is not None
    for piece, name in ((right, "right"), (left, "left")):
        piece.save(tmp_path / f"{name}.png")
    read_right = pytesseract.image_to_string(
        _ocr_image(tmp_path / "right.png", OCR_TEXT_PX / native.size_px), lang="eng",
        config="--psm 7")
    assert read_right.strip() == "NHS", read_right
    read_left = pytesseract.image_to_string(
        _ocr_image(tmp_path / "left.png", OCR_TEXT_PX / native.size_px), lang="urd",
        config="--psm 7")
    assert "NHS" not in read_left and similarity(read_left, urdu) >= 0.55, read_left


def test_ltr_bengali_line_reads_back_in_order(tmp_path: Path):
    frame = FORMATS["landscape"]
    text = "COVID-19 থেকে বাঁচতে NHS-এর পরামর্শ মানুন"
    native, _ = caption_fitters(frame, text, "bn", None, None)
    overlay = render_caption(frame, native.wrap(text), "bn", [], None, tmp_path / "bn.png")
    image = _ocr_image(overlay.path, OCR_TEXT_PX / native.size_px)
    read = pytesseract.image_to_string(image, lang="ben+eng", config="--psm 6")
    print(repr(read))
    assert similarity(read, text) >= 0.8, read
    assert read.index("COVID-19") < read.index("থেকে")
    # Tesseract's Bengali model reads the Latin "NHS" inside Bengali as Bengali letters; its
    # English model reads the Latin words, in order, where they belong.
    latin = pytesseract.image_to_string(image, lang="eng", config="--psm 6")
    print(repr(latin))
    assert "COVID-19" in latin and "NHS" in latin
    assert latin.index("COVID-19") < latin.index("NHS")


def test_emoji_are_drawn_in_colour(tmp_path: Path):
    text = "Stay at home 😷"
    fitter = LineFitter(font_for(text, "en"), 60, 2000, language="en")
    block = render_lines([text], fitter, fill=(255, 255, 255, 255))
    rgba = block.image
    coloured = [p for p in rgba.getdata() if p[3] > 200 and max(p[:3]) - min(p[:3]) > 80]
    assert len(coloured) > 500  # the yellow face, not a white box
    # it sits at the end of the line and about as tall as the text
    xs = [i % rgba.width for i, p in enumerate(rgba.getdata())
          if p[3] > 200 and max(p[:3]) - min(p[:3]) > 80]
    assert min(xs) > rgba.width * 0.7
