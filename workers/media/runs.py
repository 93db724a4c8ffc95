"""A line split into runs, each drawn by one font at one bidi level, shaped by raqm.

Real captions mix scripts and fonts: "NHS کی حفاظت کریں۔", a Hebrew sentence ending in a full
stop Noto Sans Hebrew does not have, a Georgian phone number (Noto Sans Georgian has no
digits). A line is itemised as follows:

1. every character gets a script (:func:`workers.media.scripts.resolve_scripts`: a full stop
   goes with the word it ends) and a bidi level (FriBidi, UAX #9);
2. every stretch of one script gets that script's font (the line's primary font for its own
   script; Latin words and punctuation stay in the primary font when it has them, as CJK
   fonts do);
3. a grapheme cluster that font cannot draw goes to the first font of the fallback chain that
   can (:func:`workers.media.font_choice.fallback_font`); spaces and other invisible
   characters stay with the run beside them;
4. neighbouring clusters with the same (level, font, language) form one run, so runs are as
   long as possible and shaping (Arabic joining, Indic conjuncts) is never cut inside a word
   that one font can draw.

Runs are then drawn in visual order (:func:`workers.media.bidi.visual_order`) on one
baseline. A character no installed font has raises :class:`FontError` naming it, its code
point and the Debian package that would add it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import regex

from workers.media import font_files
from workers.media.bidi import bidi_levels, paragraph_direction, without_controls
from workers.media.errors import FontError
from workers.media.font_choice import FontChoice, emoji_font, fallback_font, script_font
from workers.media.scripts import (
    EMOJI,
    LATIN_LIKE,
    URDU_LETTERS,
    group,
    is_ignorable,
    language_script,
    needed,
    primary_script,
    resolve_scripts,
    script_name,
    strong_scripts,
)

_GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True)
class Run:
    """A piece of a line drawn with one font in one direction (logical text of the piece).

    ``text`` has no explicit bidi controls: every character of a run is at one level, and
    the run is drawn in that direction.
    """

    text: str
    start: int  # offset in the line (code points)
    level: int  # bidi embedding level: odd is right-to-left
    script: str  # ISO 15924 (``'Zsye'`` for emoji, ``'Zyyy'`` for digits/punctuation only)
    font: FontChoice
    language: str | None

    @property
    def direction(self) -> str:
        return "rtl" if self.level % 2 else "ltr"


def _run_language(script: str, text: str, language: str | None, primary: str) -> str | None:
    if group(script) == primary:
        return language
    wanted = language_script(language)
    if wanted and group(wanted) == group(script):
        return language
    if script == "Arab" and any(ch in URDU_LETTERS for ch in text):
        return "ur"
    return None


@dataclass
class _Cluster:
    text: str
    start: int
    level: int
    script: str
    language: str | None
    font: FontChoice | None  # None: invisible, decided from its neighbours


def _segment_fonts(
    text: str, scripts: list[str], language: str | None, primary: FontChoice | None,
    primary_group: str, bold: bool, direction: str, dirs: tuple[str, ...],
) -> list[FontChoice | None]:
    """The font of each character's script stretch (None where no font of it is installed)."""
    out: list[FontChoice | None] = [None] * len(text)
    start = 0
    for i in range(1, len(text) + 1):
        if i < len(text) and scripts[i] == scripts[start]:
            continue
        script = scripts[start]
        piece = text[start:i]
        font: FontChoice | None
        if script == EMOJI:
            font = emoji_font(dirs, direction)
        elif primary is not None and (
            group(script) == primary_group
            or (script in LATIN_LIKE and primary.covers(piece))
        ):
            font = primary
        else:
            letters = "".join(ch for ch, s in zip(piece, strong_scripts(piece), strict=True)
                              if s) or piece
            run_language = _run_language(script, piece, language, primary_group)
            font = script_font(letters, script, run_language, bold, direction, dirs)
        out[start:i] = [font] * (i - start)
        start = i
    return out


def _missing_error(missing: list[str], text: str, language: str | None,
                   dirs: tuple[str, ...]) -> FontError:
    chars = sorted(set("".join(missing)) - {ch for ch in text if is_ignorable(ch)})
    emoji = all(strong_scripts(m)[0] == EMOJI for m in missing)
    scripts = sorted({s for ch in chars for s in [strong_scripts(ch)[0]] if s and s != EMOJI})
    what = " and ".join(f"{script_name(s)} ({s})" for s in scripts) or "these"
    return FontError(
        f"No installed font can draw {what} characters of the text {text!r} "
        f"(language {language or 'unknown'}): {font_files.describe(chars[:12])}"
        f"{' and more' if len(chars) > 12 else ''}. "
        f"{font_files.install_hint(chars, emoji=emoji)} (searched: {', '.join(dirs)}).",
        code="font_missing",
        subject=language or (scripts[0] if scripts else None),
    )


@functools.lru_cache(maxsize=16384)
def layout_runs(
    text: str, direction: str, language: str | None, primary: FontChoice | None, bold: bool,
    dirs: tuple[str, ...],
) -> tuple[Run, ...]:
    """``text`` as runs in logical order (see the module docstring)."""
    if not text:
        return ()
    scripts = resolve_scripts(text)
    levels = bidi_levels(text, direction)
    primary_group = group(primary.script) if primary else primary_script(text, language)
    segment = _segment_fonts(text, scripts, language, primary, primary_group, bold, direction,
                             dirs)
    clusters: list[_Cluster] = []
    missing: list[str] = []
    for m in _GRAPHEME.finditer(text):
        cluster, i = m.group(), m.start()
        script = scripts[i]
        cl = _Cluster(cluster, i, levels[i], script,
                      _run_language(script, cluster, language, primary_group), None)
        if needed(cluster):
            own = segment[i]
            if own is not None and own.covers(cluster):
                cl.font = own
            elif primary is not None and primary.covers(cluster):
                cl.font = primary
            else:
                cl.font = fallback_font(cluster, script, bold, direction, dirs)
                if cl.font is None:
                    missing.append(cluster)
        clusters.append(cl)
    if missing:
        raise _missing_error(missing, text, language, dirs)
    for cl in clusters:
        # A font drawing a script that is not its own (Noto Sans for a Hebrew full stop) is
        # shaped without a language: it has no language-specific forms for it anyway.
        if cl.font is not None and cl.font is not segment[cl.start] and cl.font is not primary:
            cl.language = None
        elif cl.font is not None and primary is not None and cl.font.face == primary.face:
            cl.language = language
    _place_invisible(clusters, primary)
    runs: list[Run] = []
    for cl in clusters:
        font = cl.font
        assert font is not None  # every cluster has one now
        last = runs[-1] if runs else None
        if last and last.font.face == font.face and last.level == cl.level \
                and last.language == cl.language:
            runs[-1] = Run(last.text + cl.text, last.start, last.level, last.script,
                           last.font, last.language)
        else:
            runs.append(Run(cl.text, cl.start, cl.level, cl.script, font, cl.language))
    out = []
    for run in runs:
        drawn = without_controls(run.text)
        if drawn:
            out.append(Run(drawn, run.start, run.level, run.script, run.font, run.language))
    return tuple(out)


def _place_invisible(clusters: list[_Cluster], primary: FontChoice | None) -> None:
    """Give spaces and format characters the font (and language) of a neighbour: the one at
    the same level first, the preceding one before the following one."""
    visible = [k for k, cl in enumerate(clusters) if cl.font is not None]
    for k, cl in enumerate(clusters):
        if cl.font is not None:
            continue
        before = next((clusters[j] for j in reversed(visible) if j < k), None)
        after = next((clusters[j] for j in visible if j > k), None)
        # never into an emoji run: a colour bitmap font's space is a scaled bitmap advance
        near = [c for c in (before, after)
                if c is not None and c.font is not None and not c.font.bitmap_px]
        options = [c for c in near if c.level == cl.level]
        options += [c for c in near if c not in options]
        for option in options:
            assert option.font is not None
            if _has_spaces(option.font, cl.text):
                cl.font = option.font
                if option.level == cl.level:
                    cl.language = option.language
                break
        if cl.font is None:
            cl.font = primary or (options[0].font if options else None)
        if cl.font is None:
            raise FontError("a line of spaces only has no font to measure it with",
                            code="font_missing")


def _has_spaces(font: FontChoice, text: str) -> bool:
    spaces = {ord(ch) for ch in text if ch == " " or ch == "\u00a0"}
    return font_files.face_covers(font.path, font.index, spaces)


def text_runs(
    text: str, language: str | None = None, *, font: FontChoice | None = None,
    direction: str | None = None, bold: bool | None = None,
) -> list[Run]:
    """``text`` as runs in logical order, each with the font that draws it.

    ``font`` (from :func:`workers.media.fonts.font_for`) is the primary font: it draws its
    own script's runs, and gives the paragraph direction. Raises :class:`FontError` naming the
    characters and the package for any character no installed font has.
    """
    if direction is None:
        direction = font.direction if font else paragraph_direction(text, language)
    if bold is None:
        bold = font.bold if font else False
    return list(layout_runs(text, direction, language, font, bold, font_files.search_dirs()))


@functools.lru_cache(maxsize=65536)
def needs_runs(text: str, font: FontChoice) -> bool:
    """False when ``font`` alone draws ``text`` (the fast single-script path)."""
    if font.bitmap_px:
        return True
    found = {s for s in strong_scripts(text) if s}
    if EMOJI in found or len(found) > 1:
        return True
    if found and found != {group(font.script)} and font.script not in ("Zyyy", "Zinh"):
        return True
    return not font.covers(text)


def clear_caches() -> None:
    layout_runs.cache_clear()
    needs_runs.cache_clear()
