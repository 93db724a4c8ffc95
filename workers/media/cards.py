"""Intro and outro cards (brand background, logo, centred text), and the user's logo.

Every overlay the compile engine draws is reached from here: the caption block
(:mod:`workers.media.caption_image`), the name plate (:mod:`workers.media.lower_third`) and
:class:`~workers.media.overlay.Overlay`, where an image goes on the frame.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from workers.media.caption_image import (
    caption_bottom,
    caption_fitters,
    caption_zone_top,
    render_caption,
    text_pad,
)
from workers.media.errors import MediaError
from workers.media.fonts import font_for
from workers.media.lower_third import render_lower_third
from workers.media.overlay import Overlay
from workers.media.style import Brand, Frame, rgb
from workers.media.text import LineFitter, TextBlock, render_lines

__all__ = [
    "Overlay",
    "caption_bottom",
    "caption_fitters",
    "caption_zone_top",
    "load_logo",
    "render_caption",
    "render_card",
    "render_lower_third",
]

#: Largest logo accepted, in pixels (a decompression bomb guard; Pillow's own limit is global).
MAX_LOGO_PIXELS = 40_000_000
_LOGO_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")


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
                max_width_px=frame.safe_width - 2 * text_pad(size) - size // 3,
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
