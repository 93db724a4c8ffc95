"""Measuring, wrapping and drawing shaped text (Pillow with raqm).

Lengths are counted in grapheme clusters (what a reader sees as one character: a Devanagari
conjunct, an emoji with modifiers), never code points, and widths are measured on the shaped
text, so the limits "42 characters a line" and "fits the safe area" mean what they say in
every script. Lines are never broken inside a grapheme cluster.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import regex
from fontTools import unicodedata as ft_unicodedata
from PIL import Image, ImageDraw, ImageFont

from workers.media.bidi import keep_numbers_whole, neutralise, visual_order
from workers.media.font_choice import FontChoice
from workers.media.fonts import require_shaping
from workers.media.runs import Run, needs_runs, text_runs
from workers.media.scripts import dominant_script

_GRAPHEME = regex.compile(r"\X")
_SPACE_RUN = regex.compile(r"\s+")

#: Scripts written without spaces between words: lines may break between grapheme clusters.
UNSPACED_SCRIPTS = frozenset(
    {"Hani", "Hira", "Kana", "Bopo", "Yiii", "Thai", "Khmr", "Laoo", "Mymr", "Tibt", "Java",
     "Bali", "Tale", "Talu", "Lana"}
)

RGBA = tuple[int, int, int, int]


def graphemes(text: str) -> list[str]:
    """``text`` split into extended grapheme clusters (Unicode ``\\X``)."""
    return _GRAPHEME.findall(text)


def grapheme_len(text: str) -> int:
    """How many characters a reader sees in ``text``."""
    return len(graphemes(text))


@functools.lru_cache(maxsize=128)
def load_font(path: str, index: int, size_px: int) -> ImageFont.FreeTypeFont:
    """A Pillow font using the raqm layout (bidi + HarfBuzz shaping); fails without raqm."""
    require_shaping()
    return ImageFont.truetype(path, size_px, index=index, layout_engine=ImageFont.Layout.RAQM)


@functools.lru_cache(maxsize=65536)
def _shaped_width(
    path: str, index: int, size_px: int, direction: str, language: str | None, line: str
) -> float:
    font = load_font(path, index, size_px)
    return float(font.getlength(line, direction=direction, language=language))


def run_width(run: Run, size_px: int) -> float:
    """Advance width of one run, shaped in its own font and direction, in pixels."""
    font = run.font
    if font.bitmap_px:  # colour emoji: measured at the font's only size, then scaled
        native = _shaped_width(font.path, font.index, font.bitmap_px, run.direction, None, run.text)
        return native * size_px / font.bitmap_px
    return _shaped_width(font.path, font.index, size_px, run.direction, run.language, run.text)


def line_runs(line: str, font: FontChoice, language: str | None) -> list[Run] | None:
    """The runs of ``line`` in visual order (left to right), or None when ``font`` alone draws
    it (one script: the fast path, laid out by raqm in one call).

    ``font`` gives the paragraph direction and draws the runs in its own script; see
    :func:`workers.media.runs.text_runs`.
    """
    if not needs_runs(line, font):
        return None
    return visual_order(text_runs(line, language, font=font))


@dataclass(frozen=True)
class _Atom:
    """An unbreakable piece of text and the separator that came before it (' ' or '')."""

    text: str
    sep: str


def _line_text(atoms: Sequence[_Atom]) -> str:
    if not atoms:
        return ""
    return atoms[0].text + "".join(a.sep + a.text for a in atoms[1:])


def _is_wordish(cluster: str) -> bool:
    """Latin letters or digits inside CJK/Thai text stay together ("NHS", "2020")."""
    ch = cluster[0]
    return ch.isalnum() and ft_unicodedata.script(ch) in ("Latn", "Zyyy", "Cyrl", "Grek")


def _unspaced_atoms(word: str, sep: str) -> list[_Atom]:
    """Grapheme clusters of a run without spaces, keeping punctuation with its neighbour."""
    atoms: list[_Atom] = []
    pending_open = ""
    for cluster in graphemes(word):
        cat = unicodedata.category(cluster[0])
        if cat in ("Ps", "Pi"):  # opening bracket/quote: glue to what follows
            pending_open += cluster
            continue
        text = pending_open + cluster
        pending_open = ""
        closing = cat in ("Pe", "Pf", "Po") and not pending_open
        if atoms and (
            closing or (_is_wordish(cluster) and _is_wordish(atoms[-1].text[-1]))
        ):
            atoms[-1] = _Atom(atoms[-1].text + text, atoms[-1].sep)
        else:
            atoms.append(_Atom(text, sep if not atoms else ""))
    if pending_open:
        if atoms:
            atoms[-1] = _Atom(atoms[-1].text + pending_open, atoms[-1].sep)
        else:
            atoms.append(_Atom(pending_open, sep))
    return atoms


@dataclass(frozen=True)
class LineFitter:
    """Decides what fits on one caption line, for one font and size, in a given width."""

    font: FontChoice
    size_px: int
    max_width_px: int
    max_graphemes: int = 42
    language: str | None = None

    @property
    def pil_font(self) -> ImageFont.FreeTypeFont:
        return load_font(self.font.path, self.font.index, self.size_px)

    @property
    def line_pitch(self) -> int:
        """Pixels from one baseline to the next."""
        return round(self.font.line_height * self.size_px)

    def runs(self, line: str) -> list[Run] | None:
        """Runs of a mixed-script line in visual order; None for a one-font line."""
        return line_runs(line, self.font, self.language)

    def width(self, line: str) -> float:
        """Advance width of the shaped line, in pixels (for mixed scripts: the sum of the
        advances of its runs, each shaped in its own font)."""
        runs = self.runs(line)
        if runs is not None:
            return sum(run_width(run, self.size_px) for run in runs)
        return _shaped_width(
            self.font.path, self.font.index, self.size_px, self.font.direction, self.language,
            line,
        )

    def fits(self, line: str) -> bool:
        return grapheme_len(line) <= self.max_graphemes and self.width(line) <= self.max_width_px

    def _atoms(self, text: str) -> list[_Atom]:
        unspaced = dominant_script(text) in UNSPACED_SCRIPTS
        atoms: list[_Atom] = []
        for word in _SPACE_RUN.split(text.strip()):
            if not word:
                continue
            sep = " " if atoms else ""
            pieces = _unspaced_atoms(word, sep) if unspaced else [_Atom(word, sep)]
            for piece in pieces:
                atoms.extend(self._split_long(piece))
        return atoms

    def _split_long(self, atom: _Atom) -> list[_Atom]:
        """A word wider than a line, cut between grapheme clusters (greedy)."""
        if self.fits(atom.text):
            return [atom]
        out: list[_Atom] = []
        current = ""
        for cluster in graphemes(atom.text):
            if current and not self.fits(current + cluster):
                out.append(_Atom(current, atom.sep if not out else ""))
                current = cluster
            else:
                current += cluster
        if current:
            out.append(_Atom(current, atom.sep if not out else ""))
        return out

    def wrap(self, text: str) -> list[str]:
        """Split ``text`` into the fewest lines that fit, as even in width as possible.

        Breaks at spaces, or between grapheme clusters for scripts written without spaces;
        a word too long for a line is cut between clusters. Joining the lines (with spaces
        where the text had them) gives back the text with its spacing normalised.
        """
        atoms = self._atoms(text)
        n = len(atoms)
        if n == 0:
            return []
        # best[i] = (lines, raggedness, start of last line) for atoms[:i]
        inf = (n + 1, 0.0, -1)
        best: list[tuple[int, float, int]] = [(0, 0.0, 0)] + [inf] * n
        for i in range(1, n + 1):
            for j in range(i - 1, -1, -1):
                line = _line_text(atoms[j:i])
                if j < i - 1 and not self.fits(line):
                    break  # adding more atoms only makes it longer
                slack = max(0.0, self.max_width_px - self.width(line))
                lines, rag, _ = best[j]
                candidate = (lines + 1, rag + slack * slack, j)
                if candidate[:2] < best[i][:2]:
                    best[i] = candidate
        out: list[str] = []
        i = n
        while i > 0:
            j = best[i][2]
            out.append(_line_text(atoms[j:i]))
            i = j
        return out[::-1]


@dataclass(frozen=True)
class TextBlock:
    """Lines drawn on a transparent image cropped to their ink (plus padding)."""

    image: Image.Image
    first_baseline: int  # y of the first line's baseline inside ``image``


def _anchor(align: str) -> str:
    return {"center": "ms", "left": "ls", "right": "rs"}[align]


@dataclass(frozen=True)
class _Piece:
    """Text drawn in one call: a whole line (fast path) or one run of a mixed line."""

    text: str
    font: FontChoice
    direction: str
    language: str | None
    x: float  # anchor point, relative to the line's alignment point
    anchor: str


def _pieces(line: str, fitter: LineFitter, align: str) -> list[_Piece]:
    runs = fitter.runs(line)
    if runs is None:
        return [_Piece(line, fitter.font, fitter.font.direction, fitter.language, 0.0,
                       _anchor(align))]
    widths = [run_width(run, fitter.size_px) for run in runs]
    total = sum(widths)
    x = {"center": -total / 2, "left": 0.0, "right": -total}[align]
    pieces = []
    for run, width in zip(runs, widths, strict=True):
        # every run on the common baseline ('s'), placed by the left edge of its advance
        pieces.append(_Piece(run.text, run.font, run.direction, run.language, x, "ls"))
        x += width
    return pieces


def _piece_bbox(piece: _Piece, size_px: int, stroke_width: int) -> tuple[float, ...]:
    font = piece.font
    if font.bitmap_px:
        pil = load_font(font.path, font.index, font.bitmap_px)
        scale = size_px / font.bitmap_px
        box = pil.getbbox(piece.text, anchor=piece.anchor, direction=piece.direction)
        return tuple(v * scale + (piece.x if i % 2 == 0 else 0) for i, v in enumerate(box))
    pil = load_font(font.path, font.index, size_px)
    left, top, right, bottom = pil.getbbox(
        piece.text, anchor=piece.anchor, stroke_width=stroke_width, direction=piece.direction,
        language=piece.language,
    )
    return (left + piece.x, top, right + piece.x, bottom)


def _draw_piece(
    image: Image.Image, draw: ImageDraw.ImageDraw, piece: _Piece, origin: tuple[float, float],
    size_px: int, fill: RGBA, stroke_width: int, stroke_fill: RGBA | None,
) -> None:
    font = piece.font
    x, y = origin[0] + piece.x, origin[1]
    if font.bitmap_px:
        # Colour bitmap glyphs exist at one size: draw them there, scale, and paste.
        pil = load_font(font.path, font.index, font.bitmap_px)
        left, top, right, bottom = pil.getbbox(piece.text, anchor="ls", direction=piece.direction)
        if right <= left or bottom <= top:
            return
        native = Image.new("RGBA", (int(right - left), int(bottom - top)), (0, 0, 0, 0))
        ImageDraw.Draw(native).text(
            (-left, -top), piece.text, font=pil, anchor="ls", embedded_color=True,
            direction=piece.direction,
        )
        scale = size_px / font.bitmap_px
        scaled = native.resize(
            (max(1, round(native.width * scale)), max(1, round(native.height * scale))),
            Image.Resampling.LANCZOS,
        )
        image.alpha_composite(scaled, (round(x + left * scale), round(y + top * scale)))
        return
    draw.text(
        (x, y), piece.text, font=load_font(font.path, font.index, size_px), fill=fill,
        anchor=piece.anchor, stroke_width=stroke_width, stroke_fill=stroke_fill,
        direction=piece.direction, language=piece.language,
    )


def render_lines(
    lines: Sequence[str],
    fitter: LineFitter,
    *,
    fill: RGBA,
    stroke_width: int = 0,
    stroke_fill: RGBA | None = None,
    align: str = "center",
    pitch: int | None = None,
) -> TextBlock:
    """Draw ``lines`` one under the other, shaped, with their true ink extents.

    The canvas is the union of every line's measured bounding box (``getbbox`` of the actual
    text with its stroke), plus padding, so tall marks (Nastaliq, Indic vowel signs, ę, ų)
    are never cut. ``align`` is where lines line up: 'center', 'left' or 'right'.

    A line mixing scripts ("NHS کی حفاظت کریں") is drawn run by run in visual order, each
    run in the font of its script, all on one baseline; the pitch (from the fitter's font
    choice) already allows for the tallest of them. Bidi embeddings and overrides are
    removed and unmatched isolates dropped (:func:`workers.media.bidi.neutralise`); grouped
    numbers are kept whole (:func:`workers.media.bidi.keep_numbers_whole`).
    """
    pitch = fitter.line_pitch if pitch is None else pitch
    size = fitter.size_px
    # Embeddings and overrides typed into a text never reach the picture; phone numbers
    # stay in one piece in right-to-left lines (see bidi.py).
    lines = [keep_numbers_whole(neutralise(line)) for line in lines]
    line_pieces = [_pieces(line, fitter, align) for line in lines]
    boxes = []
    for i, pieces in enumerate(line_pieces):
        for piece in pieces:
            left, top, right, bottom = _piece_bbox(piece, size, stroke_width)
            boxes.append((left, top + i * pitch, right, bottom + i * pitch))
    if not boxes:
        return TextBlock(Image.new("RGBA", (1, 1), (0, 0, 0, 0)), 0)
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    right = max(b[2] for b in boxes)
    bottom = max(b[3] for b in boxes)
    pad = max(2, stroke_width + size // 12)
    width = int(right - left) + 2 * pad
    height = int(bottom - top) + 2 * pad
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    x0 = pad - left
    y0 = pad - top
    for i, pieces in enumerate(line_pieces):
        for piece in pieces:
            _draw_piece(image, draw, piece, (x0, y0 + i * pitch), size, fill, stroke_width,
                        stroke_fill)
    return TextBlock(image, int(y0))
