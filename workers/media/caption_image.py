"""The caption block of one cue: native line(s) above, translation line(s) below.

Drawn with Pillow + raqm (:mod:`workers.media.text`): Debian ffmpeg's own text filters cannot
shape Indic scripts or Nastaliq, so ffmpeg only overlays the PNG made here. Sizes scale with
the frame's short side; the block stays inside the title-safe area, drawn smaller rather
than cut, and never taller than :func:`caption_zone_top` allows (other graphics stay above).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from workers.media.fonts import font_for
from workers.media.overlay import Overlay
from workers.media.style import Frame
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


def text_pad(size_px: int) -> int:
    """Padding :func:`render_lines` adds around the ink (must match it)."""
    return max(2, _stroke(size_px) + size_px // 12)


def _max_line_width(frame: Frame, size_px: int) -> int:
    m = _metrics(frame)
    # Box padding, the block's own padding and room for glyphs overhanging their advance.
    return frame.safe_width - 2 * m.pad_x - 2 * text_pad(size_px) - size_px // 3


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
    native_h = round(2 * NATIVE_PITCH_BUDGET * native) + 2 * text_pad(native)
    translation_h = round(2 * TRANSLATION_PITCH_BUDGET * translation) + 2 * text_pad(translation)
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
