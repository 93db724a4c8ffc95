"""The clip's name plate: language in its own script and in English, speaker, role.

People's own text (names, roles, language names) is drawn inside Unicode isolates
(:func:`workers.media.bidi.isolate`), so a bidi control typed into a name cannot reorder the
plate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from workers.media.bidi import isolate, text_direction
from workers.media.caption_image import caption_zone_top
from workers.media.fonts import font_for
from workers.media.overlay import Overlay
from workers.media.scripts import dominant_script
from workers.media.style import Brand, Frame, rgb
from workers.media.text import RGBA, LineFitter, TextBlock, render_lines


def _run(
    text: str, language: str | None, size_px: int, fill: RGBA, bold: bool = False
) -> TextBlock:
    """One run of text in the font for its own script (no wrapping)."""
    fitter = LineFitter(
        font=font_for(text, language, bold=bold), size_px=size_px, max_width_px=10**6,
        max_graphemes=10**6, language=language,
    )
    return render_lines([text], fitter, fill=fill)


def _row(runs: Sequence[TextBlock], gap: int) -> TextBlock:
    """Runs side by side (already in visual order), on a common baseline."""
    above = max(r.first_baseline for r in runs)
    below = max(r.image.height - r.first_baseline for r in runs)
    width = sum(r.image.width for r in runs) + gap * (len(runs) - 1)
    image = Image.new("RGBA", (width, above + below), (0, 0, 0, 0))
    x = 0
    for r in runs:
        image.alpha_composite(r.image, (x, above - r.first_baseline))
        x += r.image.width + gap
    return TextBlock(image, above)


def render_lower_third(
    frame: Frame,
    language_native: str,
    language_english: str,
    speaker: str,
    role: str,
    brand: Brand,
    out_png: Path,
    *,
    language: str,
) -> Overlay:
    """The clip's name plate: language in its own script and in English, speaker, role.

    "اردو · Urdu" is drawn as separate runs, each in the font of its own script, in visual
    order for the language's direction. The plate is aligned left (right for right-to-left
    languages), just above the caption zone, inside the safe area, in the brand colours with
    an accent bar on the reading-start side.
    """
    rtl = text_direction(language_native) == "rtl"  # before isolation: FSI is not strong
    text_fill: RGBA = (*rgb(brand.text), 255)
    accent: RGBA = (*rgb(brand.accent), 255)
    s = frame.short_side
    pad = round(s * 0.018)
    bar = max(4, round(s * 0.008))
    gap_y = round(s * 0.008)
    room_w = frame.safe_width
    room_h = caption_zone_top(frame) - round(s * 0.02) - frame.margin_y
    native_script = dominant_script(language_native)

    def same(text: str) -> str | None:
        """The clip's language for text in its script (an Urdu name gets Nastaliq)."""
        return language if dominant_script(text) == native_script else None

    scale = 1.0
    for _attempt in range(12):
        big = round(s * 0.045 * scale)
        mid = round(s * 0.036 * scale)
        small = round(s * 0.028 * scale)
        native_run = _run(isolate(language_native), language, big, text_fill, bold=True)
        runs = [native_run]
        if language_english.strip() and language_english.strip() != language_native.strip():
            # "اردو · Urdu"; a language whose own name is its English name shows it once
            dot = _run("·", "en", big, accent)
            runs += [dot, _run(isolate(language_english), "en", round(big * 0.8), text_fill)]
        title = _row(runs[::-1] if rtl else runs, round(big * 0.25))
        rows = [title]
        # People's own text is drawn isolated: a bidi control in it cannot reorder the plate.
        if speaker.strip():
            rows.append(_run(isolate(speaker.strip()), same(speaker), mid, text_fill, bold=True))
        if role.strip():
            rows.append(_run(isolate(role.strip()), same(role), small, (*text_fill[:3], 220)))
        width = max(r.image.width for r in rows) + 2 * pad + bar
        height = sum(r.image.height for r in rows) + gap_y * (len(rows) - 1) + 2 * pad
        if width <= room_w and height <= room_h:
            break
        scale *= min(0.95, room_w / width, room_h / height)

    panel: RGBA = (*rgb(brand.background), 235)
    image = Image.new("RGBA", (width, height), panel)
    draw = ImageDraw.Draw(image)
    draw.rectangle((width - bar, 0, width, height) if rtl else (0, 0, bar - 1, height), fill=accent)
    y = pad
    for r in rows:
        x = width - bar - pad - r.image.width if rtl else bar + pad
        image.alpha_composite(r.image, (x, y))
        y += r.image.height + gap_y
    if width > room_w or height > room_h:
        image = ImageOps.contain(image, (room_w, room_h))
        width, height = image.size
    out_png.parent.mkdir(parents=True, exist_ok=True)
    image.save(out_png)
    x = frame.width - frame.margin_x - width if rtl else frame.margin_x
    y = caption_zone_top(frame) - round(s * 0.02) - height
    return Overlay(out_png, x, y, width, height)
