"""Captions read back by Tesseract: legible, in the right order, and really shaped.

One real sentence set ("Stay at home. Protect the NHS. Save lives.") per script is drawn with
:func:`render_caption` at landscape size and OCR'd with the language's Tesseract pack (``eng``
for Somali, which has none). Right-to-left text must read better forwards than reversed (a
mirrored caption fails); for scripts that need shaping, Pillow's basic layout must draw
different pixels (so the test fails if raqm silently stops shaping).
"""

from __future__ import annotations

import difflib
import os
import shutil
import time
import unicodedata
from pathlib import Path

import pytesseract
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps

from workers.media.cards import caption_fitters, render_caption
from workers.media.style import FORMATS
from workers.media.text import graphemes

LANDSCAPE = FORMATS["landscape"]
#: Font size the OCR sees: Tesseract's layout analysis drops lines of very large Arabic text.
OCR_TEXT_PX = 30

# (language, tesseract pack, text, needs shaping, min similarity)
SAMPLES = [
    ("ur", "urd", "گھر پر رہیں۔ این ایچ ایس کی حفاظت کریں۔ جانیں بچائیں۔", True, 0.75),
    ("ar", "ara", "ابقوا في المنزل. احموا الخدمة الصحية. أنقذوا الأرواح.", True, 0.8),
    ("bn", "ben", "বাড়িতে থাকুন। এনএইচএস-কে রক্ষা করুন। জীবন বাঁচান।", True, 0.8),
    ("gu", "guj", "ઘરે રહો. એનએચએસનું રક્ષણ કરો. જીવન બચાવો.", True, 0.8),
    ("hi", "hin", "घर पर रहें। एनएचएस की रक्षा करें। जीवन बचाएँ।", True, 0.8),
    ("pa", "pan", "ਘਰ ਰਹੋ। ਐੱਨਐੱਚਐੱਸ ਦੀ ਰੱਖਿਆ ਕਰੋ। ਜਾਨਾਂ ਬਚਾਓ।", True, 0.8),
    ("ta", "tam", "வீட்டிலேயே இருங்கள். என்.எச்.எஸ்-ஐப் பாதுகாருங்கள். உயிர்களைக் காப்பாற்றுங்கள்.", True, 0.8),
    ("zh", "chi_sim", "待在家里。保护国民医疗服务体系。拯救生命。", False, 0.8),
    ("pl", "pol", "Zostań w domu. Chroń służbę zdrowia. Ratuj życie.", False, 0.8),
    ("ro", "ron", "Stați acasă. Protejați NHS. Salvați vieți.", False, 0.8),
    ("lt", "lit", "Likite namuose. Saugokite NHS. Gelbėkite gyvybes.", False, 0.8),
    ("so", "eng", "Guriga joog. Ilaali NHS-ta. Badbaadi nafaha.", False, 0.8),
]


def _norm(text: str) -> str:
    """NFC without whitespace (Tesseract spaces CJK out) and with one comma-below/cedilla."""
    text = unicodedata.normalize("NFC", text)
    text = text.translate(
        str.maketrans({"ţ": "ț", "ş": "ș", "Ţ": "Ț", "Ş": "Ș", "ي": "ی", "ك": "ک"})
    )
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _norm(a), _norm(b), autojunk=False).ratio()


def _ocr_image(png: Path, scale: float) -> Image.Image:
    """Caption as dark text on white, at the text size Tesseract's models read best."""
    overlay = Image.open(png).convert("RGBA")
    overlay = overlay.resize(
        (round(overlay.width * scale), round(overlay.height * scale)), Image.Resampling.LANCZOS
    )
    flat = Image.new("RGBA", overlay.size, (0, 0, 0, 255))
    flat.alpha_composite(overlay)
    gray = Image.eval(flat.convert("L"), lambda v: 255 - v)
    return ImageOps.expand(gray, border=40, fill=255)  # Tesseract wants a quiet margin


@pytest.fixture(scope="module", autouse=True)
def _tesseract_present() -> None:
    # One OpenMP thread: on a busy 2-core machine Tesseract's threads only fight each other.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    assert shutil.which("tesseract"), "tesseract-ocr is required (apt-get install tesseract-ocr)"


@pytest.mark.parametrize(
    ("language", "pack", "text", "shaped", "min_ratio"), SAMPLES, ids=[s[0] for s in SAMPLES]
)
def test_caption_reads_back(tmp_path, language, pack, text, shaped, min_ratio):
    assert pack in pytesseract.get_languages(), f"tesseract-ocr-{pack} language pack missing"
    native, _ = caption_fitters(LANDSCAPE, text, language, None, None)
    lines = native.wrap(text)
    overlay = render_caption(LANDSCAPE, lines, language, [], None, tmp_path / "cap.png")
    started = time.monotonic()
    read = pytesseract.image_to_string(
        _ocr_image(overlay.path, OCR_TEXT_PX / native.size_px), lang=pack, config="--psm 6"
    )
    ratio = similarity(read, text)
    reversed_ratio = similarity(read, "".join(reversed(graphemes(text))))
    print(
        f"{language}: similarity {ratio:.2f} reversed {reversed_ratio:.2f} "
        f"ocr {time.monotonic() - started:.1f}s read {read.strip()!r}"
    )
    assert ratio >= min_ratio, f"{language}: read {read!r}, similarity {ratio:.2f}"
    assert ratio - reversed_ratio >= 0.25, f"{language}: reversed text reads as well"


def _draw(
    text: str,
    font_path: str,
    index: int,
    layout: ImageFont.Layout,
    direction: str | None,
    language: str,
) -> Image.Image:
    font = ImageFont.truetype(font_path, 48, index=index, layout_engine=layout)
    image = Image.new("L", (2400, 200), 0)
    kwargs = (
        {"direction": direction, "language": language} if layout == ImageFont.Layout.RAQM else {}
    )
    ImageDraw.Draw(image).text((20, 40), text, font=font, fill=255, **kwargs)
    return image


@pytest.mark.parametrize(
    ("language", "text"),
    [(s[0], s[2]) for s in SAMPLES if s[3]],
    ids=[s[0] for s in SAMPLES if s[3]],
)
def test_shaping_changes_the_drawing(language, text):
    """Without shaping these scripts come out wrong: the basic layout must draw differently."""
    native, _ = caption_fitters(LANDSCAPE, text, language, None, None)
    line = native.wrap(text)[0]
    shaped = _draw(
        line,
        native.font.path,
        native.font.index,
        ImageFont.Layout.RAQM,
        native.font.direction,
        language,
    )
    basic = _draw(line, native.font.path, native.font.index, ImageFont.Layout.BASIC, None, language)
    ink = sum(1 for v in shaped.getdata() if v > 127)
    differing = sum(1 for v in ImageChops.difference(shaped, basic).getdata() if v > 127)
    print(f"{language}: {differing / ink:.2f} of the ink differs")
    assert ink > 1000
    assert differing / ink > 0.10, f"{language}: basic layout draws the same as raqm"
