"""Captions in 20 scripts with ASCII punctuation, digits and Latin acronyms, read back by OCR.

Each sample (:mod:`tests.unit.media.every_scripts`) is drawn with :func:`render_caption` and
read by Tesseract with the script's language pack plus English (the acronyms). Every script
here has a Debian Tesseract pack (``NO_TESSERACT_PACK`` is empty); a sample without one would
be drawn and checked for coverage only. Checked too: without shaping the complex scripts draw
differently (so the test fails if raqm silently stops shaping), the full stop of a Hebrew
or Urdu line is at its left end (ink measured), a character no installed font has is
``font_missing`` naming it, and bidi controls typed into a name or a line cannot reorder it.
"""

from __future__ import annotations

import os
import shutil

import pytesseract
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from tests.unit.media.every_scripts import NO_TESSERACT_PACK, SAMPLES, ScriptSample
from tests.unit.media.test_caption_ocr import _ocr_image, similarity
from workers.media.bidi import isolate, neutralise
from workers.media.cards import caption_fitters, render_caption, render_lower_third
from workers.media.errors import FontError
from workers.media.fonts import font_for
from workers.media.runs import text_runs
from workers.media.style import FORMATS, Brand
from workers.media.text import LineFitter, render_lines

FRAME = FORMATS["landscape"]
OCR_TEXT_PX = 30
IDS = [s.language for s in SAMPLES]


@pytest.fixture(scope="module", autouse=True)
def _tesseract_present() -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    assert shutil.which("tesseract"), "tesseract-ocr is required (apt-get install tesseract-ocr)"


def test_at_least_fifteen_scripts_hebrew_among_them():
    assert len({s.script for s in SAMPLES}) >= 15
    assert "Hebr" in {s.script for s in SAMPLES}
    for s in SAMPLES:
        for needed in (".", ",", "?", "0121-555-0123", "12/03/2021"):
            assert needed in s.text, f"{s.language}: no {needed!r}"
        assert any(a in s.text for a in ("NHS", "GP", "COVID-19")), s.language


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_every_character_has_a_font_and_runs_stay_long(sample: ScriptSample):
    font = font_for(sample.text, sample.language)
    assert font.script == sample.script
    runs = text_runs(sample.text, sample.language, font=font)
    for run in runs:
        assert run.font.covers(run.text), f"{sample.language}: {run.text!r} in {run.font.family}"
    # The script's words are drawn by the script's font, in one piece each.
    for word in sample.words.split():
        assert any(word in r.text and r.font.face == font.face for r in runs), \
            f"{sample.language}: {word!r} split or drawn by another font: {runs}"
    # Fonts switch only where a font lacks a glyph: never more runs than font changes need.
    assert len(runs) <= 16, f"{sample.language}: {len(runs)} runs"


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_caption_reads_back(tmp_path, sample: ScriptSample):
    native, _ = caption_fitters(FRAME, sample.text, sample.language, None, None)
    lines = native.wrap(sample.text)
    overlay = render_caption(FRAME, lines, sample.language, [], None, tmp_path / "cap.png")
    if sample.pack in NO_TESSERACT_PACK:
        pytest.fail(f"{sample.language}: declare the sample without a pack in the docstring")
    packs = pytesseract.get_languages()
    assert sample.pack in packs, (
        f"tesseract-ocr-{sample.pack.replace('_', '-')} language pack missing "
        "(infra/scripts/bootstrap.sh --test installs it)")
    lang = f"{sample.pack}+eng" if sample.with_english else sample.pack
    read = pytesseract.image_to_string(
        _ocr_image(overlay.path, OCR_TEXT_PX / native.size_px), lang=lang, config="--psm 6")
    ratio = similarity(read, sample.text)
    print(f"{sample.language}: similarity {ratio:.2f} read {read.strip()!r}")
    assert ratio >= sample.min_ratio, f"{sample.language}: read {read!r}, similarity {ratio:.2f}"


def _draw(text: str, path: str, index: int, layout: ImageFont.Layout, direction: str | None,
          language: str) -> Image.Image:
    font = ImageFont.truetype(path, 48, index=index, layout_engine=layout)
    image = Image.new("L", (2400, 200), 0)
    kwargs = {"direction": direction, "language": language} \
        if layout == ImageFont.Layout.RAQM else {}
    ImageDraw.Draw(image).text((20, 40), text, font=font, fill=255, **kwargs)
    return image


SHAPED = [s for s in SAMPLES if s.shaped]


@pytest.mark.parametrize("sample", SHAPED, ids=[s.language for s in SHAPED])
def test_shaping_changes_the_drawing(sample: ScriptSample):
    """Without shaping these scripts come out wrong: the basic layout must draw differently."""
    font = font_for(sample.text, sample.language)
    shaped = _draw(sample.words, font.path, font.index, ImageFont.Layout.RAQM, font.direction,
                   sample.language)
    basic = _draw(sample.words, font.path, font.index, ImageFont.Layout.BASIC, None,
                  sample.language)
    ink = sum(1 for v in shaped.getdata() if v > 127)
    differing = sum(1 for v in ImageChops.difference(shaped, basic).getdata() if v > 127)
    print(f"{sample.language}: {differing / ink:.2f} of the ink differs")
    assert ink > 500
    assert differing / ink > 0.10, f"{sample.language}: basic layout draws the same as raqm"


def _ink_blobs(image: Image.Image) -> list[tuple[int, int, int, int]]:
    """Boxes of the groups of ink columns, left to right (a gap of 2 empty columns splits)."""
    alpha = image.getchannel("A")
    width, height = alpha.size
    data = alpha.load()
    columns = [any(data[x, y] > 100 for y in range(height)) for x in range(width)]
    blobs: list[tuple[int, int]] = []
    x = 0
    while x < width:
        if not columns[x]:
            x += 1
            continue
        start = x
        gap = 0
        while x < width and gap < 3:
            gap = 0 if columns[x] else gap + 1
            x += 1
        blobs.append((start, x - gap))
    out = []
    for a, b in blobs:
        rows = [y for y in range(height) if any(data[c, y] > 100 for c in range(a, b))]
        out.append((a, min(rows), b, max(rows) + 1))
    return out


@pytest.mark.parametrize(
    ("language", "text", "mark"),
    [("he", "הישארו בבית.", "."), ("ur", "گھر پر رہیں.", "."), ("ur", "گھر پر رہیں?", "?"),
     ("he", "מה שלומך?", "?")],
)
def test_punctuation_of_a_right_to_left_line_is_at_its_left_end(language, text, mark):
    size = 60
    fitter = LineFitter(font=font_for(text, language), size_px=size, max_width_px=10**5,
                        language=language)
    block = render_lines([text], fitter, fill=(255, 255, 255, 255))
    without = render_lines([text[:-1]], fitter, fill=(255, 255, 255, 255))
    left = _ink_blobs(block.image)[0]
    left_without = _ink_blobs(without.image)[0]
    baseline = block.first_baseline
    print(language, mark, "leftmost ink", left, "without the mark", left_without)
    # The leftmost ink is the mark: narrow, and a full stop sits on the baseline.
    assert left[2] - left[0] < size * 0.45, f"leftmost ink {left} is not a {mark!r}"
    if mark == ".":
        assert left[3] - left[1] < size * 0.25 and abs(left[3] - baseline) < size * 0.15
    # ... and without the mark, the leftmost ink is a letter (the test can tell them apart).
    assert (left_without[2] - left_without[0], left_without[3] - left_without[1]) != \
        (left[2] - left[0], left[3] - left[1])
    assert len(_ink_blobs(block.image)) == len(_ink_blobs(without.image)) + 1


def test_a_character_no_font_has_is_font_missing_naming_it(tmp_path):
    text = "Rri në shtëpi, \U00010570\U00010571."  # Vithkuqi: no Noto font in Debian 12 has it
    with pytest.raises(FontError) as excinfo:
        font_for(text, "sq")
    message = str(excinfo.value)
    assert excinfo.value.code == "font_missing"
    assert "U+10570" in message and "U+10571" in message and "VITHKUQI" in message
    assert "fonts-unifont" in message
    assert "U+002E" not in message and "U+0065" not in message  # only what is missing
    with pytest.raises(FontError, match="U\\+10570"):
        render_caption(FRAME, [text], "sq", [], None, tmp_path / "cap.png")


def test_neutralise_and_isolate():
    rlo, pdf, rli, pdi, fsi = "\u202e", "\u202c", "\u2067", "\u2069", "\u2068"
    assert neutralise(f"Imran {rlo}ihsreuQ{pdf}") == "Imran ihsreuQ"
    assert neutralise(f"a{rli}b") == "ab"  # an isolate never closed is dropped
    assert neutralise(f"a{pdi}b") == "ab"  # a PDI with nothing to close too
    assert neutralise(f"a{rli}b{pdi}c") == f"a{rli}b{pdi}c"  # a matched pair is harmless
    assert isolate(f"{rlo}Imran") == f"{fsi}Imran{pdi}"
    assert isolate("") == ""


def test_an_override_in_a_caption_line_cannot_reverse_it(tmp_path):
    plain = render_caption(FRAME, ["Call NHS on 0121-555-0123 now."], "en", [], None,
                           tmp_path / "plain.png")
    hostile = render_caption(FRAME, ["Call NHS on \u202e0121-555-0123 now.\u202c"], "en", [],
                             None, tmp_path / "hostile.png")
    a = Image.open(plain.path).convert("RGBA")
    b = Image.open(hostile.path).convert("RGBA")
    assert a.size == b.size
    assert ImageChops.difference(a, b).getbbox() is None


def test_an_override_in_a_speaker_name_cannot_reorder_the_plate(tmp_path):
    brand = Brand("#1d3557", "#ffffff", "#f1c40f")
    name = "Rabbi Sarah Cohen"
    clean = render_lower_third(FRAME, "עברית", "Hebrew", name, "Synagogue", brand,
                               tmp_path / "clean.png", language="he")
    hostile = render_lower_third(FRAME, "עברית", "Hebrew", f"\u202e{name}",
                                 "Synagogue\u202b", brand, tmp_path / "hostile.png",
                                 language="he")
    a = Image.open(clean.path).convert("RGBA")
    b = Image.open(hostile.path).convert("RGBA")
    assert (clean.x, clean.y, a.size) == (hostile.x, hostile.y, b.size)
    assert ImageChops.difference(a, b).getbbox() is None


def test_a_phone_number_in_an_urdu_line_keeps_its_order():
    """After Arabic letters digits become Arabic numbers and a hyphen between them stays
    neutral (UAX #9), so without an isolate the groups came out as 0123-555-0121."""
    from workers.media.bidi import keep_numbers_whole, visual_order

    line = "NHS کو 0121-555-0123 پر فون کریں"
    font = font_for(line, "ur")
    plain = "".join(r.text for r in visual_order(text_runs(line, "ur", font=font)))
    assert "0123-555-0121" in plain  # what the bidi algorithm alone gives
    kept = keep_numbers_whole(line)
    drawn = "".join(r.text for r in visual_order(text_runs(kept, "ur", font=font)))
    assert "0121-555-0123" in drawn
    assert keep_numbers_whole("12/03/2021 and 0121 555") == "12/03/2021 and 0121 555"
