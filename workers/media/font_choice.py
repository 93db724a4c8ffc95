"""Which font draws a piece of text: the script's own Noto font, then a fallback chain.

Every choice is checked against the font's character map, so nothing is drawn as a tofu box.
For the letters of a script the script's Noto family is used (the language refines the
style: Nastaliq for Urdu and other Arabic-script languages of South Asia, the Japanese,
Korean, Simplified, Traditional or Hong Kong face of Noto CJK). A character that font lacks
(Noto Sans Hebrew has no full stop, Noto Sans Georgian no digits) is drawn by the first font
of the fallback chain that has it: Noto Sans, then any Noto family, then any installed font.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from fontTools import unicodedata as ft_unicodedata
from fontTools.ttLib import TTFont

from workers.media import font_files
from workers.media.errors import FontError
from workers.media.scripts import CJK_SCRIPTS, EMOJI, LATIN_LIKE, needed, script_of

#: Languages written in Arabic script in the Nastaliq style (Urdu and its neighbours).
_NASTALIQ_LANGUAGES = frozenset(
    {"ur", "pa", "pnb", "ks", "skr", "bal", "bgn", "hnd", "khw", "brh", "phr", "trw"}
)
_EMOJI_FILE = "NotoColorEmoji.ttf"


@dataclass(frozen=True)
class FontChoice:
    """A font file (and face inside a collection) able to draw a given text."""

    path: str
    index: int
    family: str
    script: str  # ISO 15924, e.g. 'Arab'
    direction: str  # 'ltr' | 'rtl' (for mixed-script text: the paragraph direction)
    line_height: float  # multiple of the font size between baselines (Nastaliq needs ~2)
    bold: bool = False
    #: Colour bitmap fonts (Noto Color Emoji, CBDT) load at one pixel size only; drawn there
    #: and scaled. 0 for ordinary outline fonts.
    bitmap_px: int = 0

    @property
    def face(self) -> tuple[str, int, int]:
        """What identifies the drawing font (two choices of one face draw the same)."""
        return self.path, self.index, self.bitmap_px

    def covers(self, text: str) -> bool:
        """True if the face has a glyph for every visible character of ``text``."""
        return font_files.face_covers(self.path, self.index, needed(text))


def base_language(language: str | None) -> str:
    return (language or "").replace("_", "-").split("-")[0].lower()


def _cjk_index(language: str | None, script: str, text: str) -> int:
    """Face in NotoSansCJK-*.ttc: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK."""
    tag = (language or "").replace("_", "-").lower()
    base = base_language(language)
    if base == "ja" or script in ("Hira", "Kana"):
        return 0
    if base == "ko" or script == "Hang":
        return 1
    if tag.startswith("zh-hk") or tag.startswith("zh-mo") or base == "yue" or "hant-hk" in tag:
        return 4
    if "hant" in tag or tag.startswith("zh-tw"):
        return 3
    if any(script_of(ch) in ("Hira", "Kana") for ch in text):
        return 0
    return 2


def _noto_name(script: str) -> str:
    """'Arab' → 'Arabic', 'Sarb' → 'OldSouthArabian', as in Noto file names."""
    name = ft_unicodedata.script_name(script, default="")
    return re.sub(r"[^A-Za-z0-9]", "", name)


def _candidates(script: str, language: str | None, bold: bool, text: str) -> list[tuple[str, int]]:
    """File names (and face index) to try first, best first."""
    weight = "Bold" if bold else "Regular"
    base = base_language(language)
    if script in CJK_SCRIPTS:
        index = _cjk_index(language, script, text)
        return [(f"NotoSansCJK-{weight}.ttc", index), (f"NotoSerifCJK-{weight}.ttc", index)]
    if script in LATIN_LIKE:
        return [(f"NotoSans-{weight}.ttf", 0), (f"NotoSerif-{weight}.ttf", 0)]
    names: list[str] = []
    if script == "Arab":
        if base in _NASTALIQ_LANGUAGES:
            names.append("NotoNastaliqUrdu")
        names += ["NotoNaskhArabic", "NotoSansArabic", "NotoKufiArabic"]
    noto = _noto_name(script)
    if noto:
        names += [f"NotoSans{noto}", f"NotoSerif{noto}", f"Noto{noto}", f"NotoSans{noto}UI"]
    out: list[tuple[str, int]] = []
    for name in names:
        out.append((f"{name}-{weight}.ttf", 0))
        out.append((f"{name}-{weight}.otf", 0))
        if bold:  # not every family has a bold; regular beats none
            out.append((f"{name}-Regular.ttf", 0))
    return out


def _choice(path: str, index: int, script: str, direction: str, bold: bool) -> FontChoice | None:
    info = font_files.face_info(path, index)
    if info is None:
        return None
    line_height = info.line_height
    if script not in LATIN_LIKE and script not in CJK_SCRIPTS:
        # Marks above and below the line (Indic vowel signs, Thai tone marks...).
        line_height = max(line_height, 1.5)
    return FontChoice(path, index, info.family, script, direction, line_height, bold)


@functools.lru_cache(maxsize=4096)
def script_font(
    letters: str, script: str, language: str | None, bold: bool, direction: str,
    dirs: tuple[str, ...],
) -> FontChoice | None:
    """The script's own font for ``letters`` (the letters of one script in a line).

    The first of the script's Noto families that has every letter; else any installed Noto
    family that has them all; else the script's family that has most of them (the rest goes
    to the fallback chain). None when no font of the script is installed.
    """
    index = font_files.font_index(dirs)
    want = needed(letters)
    partial: tuple[int, str, int] | None = None
    for name, face in _candidates(script, language, bold, letters):
        path = index.get(name)
        info = font_files.face_info(path, face) if path else None
        if path is None or info is None:
            continue
        if want <= info.cmap:
            return _choice(path, face, script, direction, bold)
        have = len(want & info.cmap)
        if have and (partial is None or have > partial[0]):
            partial = (have, path, face)
    for path, face in font_files.noto_family_faces(index, bold):
        info = font_files.face_info(path, face)
        if info is not None and want and want <= info.cmap:
            return _choice(path, face, script, direction, bold)
    if partial is not None:
        return _choice(partial[1], partial[2], script, direction, bold)
    return None


@functools.lru_cache(maxsize=16384)
def fallback_font(
    cluster: str, script: str, bold: bool, direction: str, dirs: tuple[str, ...]
) -> FontChoice | None:
    """The first font of the fallback chain with every glyph of ``cluster``: Noto Sans, any
    Noto family, then any installed font. None if no installed font has them all."""
    want = needed(cluster)
    index = font_files.font_index(dirs)
    weight = "Bold" if bold else "Regular"
    chain = [(index.get(f"NotoSans-{weight}.ttf"), 0), (index.get("NotoSans-Regular.ttf"), 0)]
    for path, face in chain:
        if path and font_files.face_covers(path, face, want):
            return _choice(path, face, script, direction, bold)
    for path, face in font_files.noto_family_faces(index, bold):
        if font_files.face_covers(path, face, want):
            return _choice(path, face, script, direction, bold)
    if want:
        found = font_files.any_face_with(min(want), dirs, bold)
        if found is not None and font_files.face_covers(found[0], found[1], want):
            return _choice(found[0], found[1], script, direction, bold)
    return None


@functools.lru_cache(maxsize=8)
def emoji_font(dirs: tuple[str, ...], direction: str) -> FontChoice:
    """Noto Color Emoji, drawn at its one bitmap size."""
    path = font_files.font_index(dirs).get(_EMOJI_FILE)
    package = font_files.EMOJI_PACKAGE
    if path is None:
        raise FontError(
            f"The text has emoji and no emoji font is installed: install the Debian package "
            f"{package} (searched: {', '.join(dirs)}).",
            code="font_missing", subject="emoji",
        )
    try:
        font = TTFont(path, lazy=True)
        strike = int(font["CBLC"].strikes[0].bitmapSizeTable.ppemY)
    except Exception as exc:
        raise FontError(
            f"The emoji font {path} is not a colour bitmap font Pillow can draw ({exc}); "
            f"install the Debian package {package}.",
            code="font_missing", subject="emoji",
        ) from exc
    return FontChoice(path, 0, "Noto Color Emoji", EMOJI, direction, 1.3, False, strike)


def clear_caches() -> None:
    script_font.cache_clear()
    fallback_font.cache_clear()
    emoji_font.cache_clear()

