"""The font of a line of text, and the checks that it can be drawn at all.

:func:`font_for` is what the drawing code asks: the primary font of a line (its script's
Noto font, chosen as :mod:`workers.media.font_choice` says), the paragraph direction, and a
line height tall enough for every run, with every character of the line checked to have a
font (:mod:`workers.media.runs`). Finding fonts and their coverage is
:mod:`workers.media.font_files`; scripts and directions are :mod:`workers.media.scripts` and
:mod:`workers.media.bidi`.

Shaping (joining Arabic letters, forming Indic conjuncts) needs Pillow built with raqm;
:func:`require_shaping` checks for it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from PIL import features

from workers.media import font_choice, font_files, runs
from workers.media.bidi import paragraph_direction
from workers.media.errors import FontError
from workers.media.font_choice import FontChoice
from workers.media.scripts import CJK_SCRIPTS, EMOJI, LATIN_LIKE, letters_in, primary_script

__all__ = ["FontChoice", "clear_caches", "font_for", "require_drawable", "require_shaping"]


def require_shaping() -> None:
    """Fail clearly when Pillow cannot shape text (raqm missing or its libfribidi missing).

    Without raqm Pillow silently falls back to its basic layout: Arabic letters unjoined and
    left-to-right, Indic conjuncts broken. A wrong caption is worse than no caption.
    """
    if not features.check("raqm"):
        raise FontError(
            "Pillow cannot shape complex scripts (Arabic, Urdu, Indic): its raqm layout engine "
            "is not available. Install the system libraries libraqm0 and libfribidi0 "
            "(apt-get install libraqm0 libfribidi0) and use a Pillow build with raqm support.",
            code="font_missing",
        )


@functools.lru_cache(maxsize=4096)
def _font_for(text: str, language: str | None, bold: bool, dirs: tuple[str, ...]) -> FontChoice:
    direction = paragraph_direction(text, language)
    script = primary_script(text, language)
    letters = letters_in(text, script) if script != "Zyyy" else ""
    primary = font_choice.script_font(letters or text, script, language, bold, direction, dirs)
    laid_out = runs.layout_runs(text, direction, language, primary, bold, dirs)  # all covered
    if primary is None:  # no font of the script: the first font that drew any of it
        first = laid_out[0].font if laid_out else None
        if first is None:
            raise FontError(f"no installed font can draw {text!r}", code="font_missing",
                            subject=language)
        primary = first
    heights = [r.font.line_height for r in laid_out] or [primary.line_height]
    line_height = max(primary.line_height, *heights)
    if any(r.font.script not in LATIN_LIKE | CJK_SCRIPTS | {EMOJI} for r in laid_out):
        line_height = max(line_height, 1.5)
    return FontChoice(primary.path, primary.index, primary.family, primary.script, direction,
                      line_height, bold, primary.bitmap_px)


def font_for(text: str, language: str | None = None, *, bold: bool = False) -> FontChoice:
    """The primary font of ``text``, having checked that every character can be drawn.

    The primary font is the font of the line's main script (the language's own when the text
    has letters of it, else the dominant one), refined by ``language`` (BCP 47): Nastaliq for
    Urdu, the right face of Noto CJK. It carries the paragraph direction and a line height
    tall enough for every run; the characters it lacks (a full stop beside Hebrew letters,
    "NHS" beside Devanagari) are drawn by other fonts when the line is laid out
    (:func:`workers.media.runs.text_runs`).

    Raises :class:`FontError` only when no installed font has some character, naming the
    characters (with their code points) and the Debian package that would add them.
    """
    return _font_for(text, language, bold, font_files.search_dirs())


def require_drawable(texts: Iterable[tuple[str, str | None]]) -> None:
    """Raise one :class:`FontError` for the first of ``(text, language)`` that cannot be drawn.

    For checking everything a clip will draw before any work is spent on it.
    """
    for text, language in texts:
        if text and text.strip():
            font_for(text, language)


def clear_caches() -> None:
    """Forget indexed font folders and choices (after installing fonts, or in tests)."""
    _font_for.cache_clear()
    runs.clear_caches()
    font_choice.clear_caches()
    font_files.clear_caches()
