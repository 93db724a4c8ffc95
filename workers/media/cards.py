"""Caption blocks, lower thirds and intro/outro cards, drawn as PNG images.

Everything is drawn with Pillow + raqm (see :mod:`workers.media.text`): Debian ffmpeg's own
text filters cannot shape Indic scripts or Nastaliq (MEDIA-NOTES "Caption renderers"), so
ffmpeg only overlays the images made here. Overlays are RGBA and cropped to what they show;
an :class:`Overlay` says where on the frame it goes. Every overlay is kept inside the
frame's title-safe area: text that would not fit is drawn smaller rather than cut.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from workers.media.bidi import isolate, text_direction
from workers.media.errors import MediaError
from workers.media.fonts import font_for
from workers.media.scripts import dominant_script
from workers.media.style import Brand, Frame, rgb
from workers.media.text import RGBA, LineFitter, TextBlock, render_lines

#: Share of the frame's short side used for the native caption and the translation line.
NATIVE_SIZE = 0.05
TRANSLATION_SIZE = 0.04
#: Line pitch (multiple of the font size) a 2+2-line block is budgeted for: Nastaliq native
#: text (2.125) below a Latin, Indic or Naskh translation. Taller blocks are drawn smaller.
NATIVE_PITCH_BUDGET = 2.2
TRANSLATION_PITCH_BUDGET = 1.6

CAPTION_BOX: RGBA = (0, 0, 0, 150)
NATIVE_FILL: RGBA = (255, 255, 255, 255)
TRANSLATION_FILL: RGBA = (255, 236, 160, 255)
OUTLINE: RGBA = (0, 0, 0, 255)

#: Largest logo accepted, in pixels (a decompression bomb guard; Pillow's own limit is global).
MAX_LOGO_PIXELS = 40_000_000
_LOGO_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")


@dataclass(frozen=True)
class Overlay:
    """A PNG and where its top-left corner goes on the frame."""

    path: Path
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class _CaptionMetrics:
    pad_x: int
    pad_y: int
    gap: int
    radius: int


def _metrics(frame: Frame) -> _CaptionMetrics:
    s = frame.short_side
    return _CaptionMetrics(
        pad_x=round(s * 0.022), pad_y=round(s * 0.012), gap=round(s * 0.006),
        radius=round(s * 0.012),
    )


def _stroke(size_px: int) -> int:
    return max(2, round(size_px / 20))


def _text_pad(size_px: int) -> int:
    """Padding :func:`render_lines` adds around the ink (must match it)."""
    return max(2, _stroke(size_px) + size_px // 12)


def _max_line_width(frame: Frame, size_px: int) -> int:
    m = _metrics(frame)
    # Box padding, the block's own padding and room for glyphs overhanging their advance.
    return frame.safe_width - 2 * m.pad_x - 2 * _text_pad(size_px) - size_px // 3


def _sizes(frame: Frame) -> tuple[int, int]:
    s = frame.short_side
    return round(s * NATIVE_SIZE), round(s * TRANSLATION_SIZE)


def _fitter(text: str, language: str | None, size_px: int, frame: Frame) -> LineFitter:
    return LineFitter(
        font=font_for(text, language),
        size_px=size_px,
        max_width_px=_max_line_width(frame, size_px),
        language=language,
    )


def caption_fitters(
    frame: Frame,
    native_text: str,
    native_language: str,
    translation_text: str | None,
    translation_language: str | None,
) -> tuple[LineFitter, LineFitter | None]:
    """Line fitters for a clip's captions in this frame (native larger, translation smaller).

    Font sizes scale with the frame's short side (readable on a phone); the width is the safe
    area minus the caption box padding. The compile code wraps with these and makes cues of
    at most two lines per language.
    """
    native_size, translation_size = _sizes(frame)
    native = _fitter(native_text, native_language, native_size, frame)
    translation = None
    if translation_text:
        translation = _fitter(translation_text, translation_language, translation_size, frame)
    return native, translation


def _max_block_height(frame: Frame) -> int:
    """Height budget of a 2-line native + 2-line translation caption block."""
    m = _metrics(frame)
    native, translation = _sizes(frame)
    native_h = round(2 * NATIVE_PITCH_BUDGET * native) + 2 * _text_pad(native)
    translation_h = round(2 * TRANSLATION_PITCH_BUDGET * translation) + 2 * _text_pad(translation)
    return 2 * m.pad_y + native_h + m.gap + translation_h


def caption_bottom(frame: Frame) -> int:
    """y of the caption block's bottom edge (the bottom of the safe area)."""
    return frame.height - frame.margin_y


def caption_zone_top(frame: Frame) -> int:
    """The highest y a caption block (2 native + 2 translation lines) can reach.

    :func:`render_caption` guarantees it: a taller block is drawn smaller. Other graphics
    (lower thirds) stay above this line.
    """
    return caption_bottom(frame) - _max_block_height(frame)


def _caption_blocks(
    native_lines: Sequence[str],
    native_language: str,
    translation_lines: Sequence[str],
    translation_language: str | None,
    frame: Frame,
    scale: float,
) -> list[TextBlock]:
    native_size, translation_size = _sizes(frame)
    blocks: list[TextBlock] = []
    for lines, language, size, fill in (
        (native_lines, native_language, native_size, NATIVE_FILL),
        (translation_lines, translation_language, translation_size, TRANSLATION_FILL),
    ):
        lines = [line for line in lines if line.strip()]
        if not lines:
            continue
        size = max(8, round(size * scale))
        fitter = _fitter(" ".join(lines), language, size, frame)
        blocks.append(
            render_lines(
                lines, fitter, fill=fill, stroke_width=_stroke(size), stroke_fill=OUTLINE
            )
        )
    return blocks


def render_caption(
    frame: Frame,
    native_lines: Sequence[str],
    native_language: str,
    translation_lines: Sequence[str],
    translation_language: str | None,
    out_png: Path,
) -> Overlay:
    """Draw one cue's caption block: native line(s) above, translation line(s) below.

    A semi-transparent dark box with white outlined text (translation smaller, pale yellow),
    centred and bottom-anchored in the safe area. The PNG holds only the block; the returned
    :class:`Overlay` says where it goes. If the lines are too wide for the safe area or taller
    than the caption zone, the whole block is drawn smaller until it fits.
    """
    if not any(line.strip() for line in [*native_lines, *translation_lines]):
        raise ValueError("a caption needs at least one non-empty line")
    m = _metrics(frame)
    max_w = frame.safe_width
    max_h = _max_block_height(frame)
    scale = 1.0
    for _attempt in range(12):
        blocks = _caption_blocks(
            native_lines, native_language, translation_lines, translation_language, frame, scale
        )
        width = max((b.image.width for b in blocks), default=0) + 2 * m.pad_x
        height = sum(b.image.height for b in blocks) + m.gap * max(0, len(blocks) - 1)
        height += 2 * m.pad_y
        if width <= max_w and height <= max_h:
            break
        scale *= min(0.95, max_w / width, max_h / height)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle(
        (0, 0, width - 1, height - 1), radius=m.radius, fill=CAPTION_BOX
    )
    y = m.pad_y
    for block in blocks:
        x = (width - block.image.width) // 2
        image.alpha_composite(block.image, (x, y))
        y += block.image.height + m.gap
    if width > max_w or height > max_h:  # last resort; only absurdly long lines get here
        image = ImageOps.contain(image, (max_w, max_h))
        width, height = image.size
    out_png.parent.mkdir(parents=True, exist_ok=True)
    image.save(out_png)
    x = (frame.width - width) // 2
    return Overlay(out_png, x, caption_bottom(frame) - height, width, height)


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


def load_logo(path: Path) -> Image.Image:
    """Open a user's logo image safely (size-limited, formats whitelisted) as RGBA."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=_LOGO_FORMATS) as img:
                if img.width * img.height > MAX_LOGO_PIXELS:
                    raise MediaError(
                        f"logo {path.name} is too large ({img.width}x{img.height} pixels; "
                        f"at most {MAX_LOGO_PIXELS} pixels)",
                        code="bad_logo", subject=str(path),
                    )
                img.seek(0)
                img = ImageOps.exif_transpose(img)
                return img.convert("RGBA")
    except MediaError:
        raise
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(
            f"logo {path.name} cannot be read as an image (PNG, JPEG, WebP, GIF): {exc}",
            code="bad_logo", subject=str(path),
        ) from exc


def render_card(
    frame: Frame,
    text: str,
    brand: Brand,
    out_png: Path,
    *,
    logo: Path | None = None,
    language: str | None = None,
) -> Path:
    """An opaque full-frame intro/outro card: brand background, optional logo, centred text.

    The text is wrapped in the font of its own script; the logo is scaled to fit above it.
    """
    s = frame.short_side
    background = rgb(brand.background)
    card = Image.new("RGBA", (frame.width, frame.height), (*background, 255))
    logo_img = load_logo(logo) if logo is not None else None
    gap = round(s * 0.04)

    size = round(s * 0.07)
    block: TextBlock | None = None
    logo_box = (frame.safe_width, round(frame.safe_height * 0.35))
    for _attempt in range(15):
        block = None
        if text.strip():
            fitter = LineFitter(
                font=font_for(text, language), size_px=size,
                max_width_px=frame.safe_width - 2 * _text_pad(size) - size // 3,
                max_graphemes=60, language=language,
            )
            block = render_lines(fitter.wrap(text), fitter, fill=(*rgb(brand.text), 255))
        text_h = block.image.height if block else 0
        logo_h = logo_box[1] if logo_img is not None else 0
        total = text_h + logo_h + (gap if block and logo_img else 0)
        fits = total <= frame.safe_height and (not block or block.image.width <= frame.safe_width)
        if fits or size <= 12:
            break
        size = max(12, round(size * 0.9))

    placed_logo = ImageOps.contain(logo_img, logo_box) if logo_img is not None else None
    text_h = block.image.height if block else 0
    logo_h = placed_logo.height if placed_logo else 0
    total = text_h + logo_h + (gap if block and placed_logo else 0)
    y = (frame.height - total) // 2
    if placed_logo is not None:
        card.alpha_composite(placed_logo, ((frame.width - placed_logo.width) // 2, y))
        y += placed_logo.height + gap
    if block is not None:
        text_img = block.image
        if text_img.width > frame.safe_width:
            text_img = ImageOps.contain(text_img, (frame.safe_width, frame.safe_height))
        card.alpha_composite(text_img, ((frame.width - text_img.width) // 2, y))
    out_png.parent.mkdir(parents=True, exist_ok=True)
    card.convert("RGB").save(out_png)
    return out_png
