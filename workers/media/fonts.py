"""Choosing a font that can draw a piece of text, by the script of the text.

Why by script and not by language code: the same language is written in different scripts
(Punjabi in Gurmukhi is left-to-right, in Shahmukhi — Arabic script — right-to-left; Sylheti
in Syloti Nagri or Bengali), and a campaign may hold any BCP 47 tag. The script tells us which
Noto family to use; the language only refines the choice (Nastaliq for Urdu, the right CJK
face for Japanese, Korean, Simplified or Traditional Chinese).

Every choice is checked against the font's character map (fontTools), so a caption is never
drawn with tofu boxes: if no installed font covers the text we raise :class:`FontError` naming
the script and the Debian package to install. Shaping (joining Arabic letters, forming Indic
conjuncts) needs Pillow built with raqm; :func:`require_shaping` checks for it.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fontTools import unicodedata as ft_unicodedata
from fontTools.ttLib import TTCollection, TTFont
from PIL import features

from workers.media.errors import FontError

#: Folders searched for fonts, in order. ``CHORUS_FONT_DIRS`` (os.pathsep-separated) adds
#: folders before these. Tests may replace this tuple.
SYSTEM_FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    str(Path.home() / ".local" / "share" / "fonts"),
)
FONT_DIRS_ENV = "CHORUS_FONT_DIRS"

_FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
_CJK_SCRIPTS = frozenset({"Hani", "Hira", "Kana", "Hang", "Bopo", "Hrkt", "Jpan", "Kore"})
#: ISO 15924 codes for scripts with their own Noto files whose name is not the Unicode name.
_LATIN_LIKE = frozenset({"Latn", "Cyrl", "Grek", "Zyyy", "Zinh", "Zzzz"})
#: Languages written in Arabic script in the Nastaliq style (Urdu and its neighbours).
_NASTALIQ_LANGUAGES = frozenset(
    {"ur", "pa", "pnb", "ks", "skr", "bal", "bgn", "hnd", "khw", "brh", "phr", "trw"}
)
_RTL_BIDI = frozenset({"R", "AL"})
_STRONG_BIDI = frozenset({"L", "R", "AL"})


@dataclass(frozen=True)
class FontChoice:
    """A font file (and face inside a collection) able to draw a given text."""

    path: str
    index: int
    family: str
    script: str  # ISO 15924, e.g. 'Arab'
    direction: str  # 'ltr' | 'rtl'
    line_height: float  # multiple of the font size between baselines (Nastaliq needs ~2)


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


def _is_ignorable(ch: str) -> bool:
    """Characters that need no glyph: spaces, format controls (ZWJ, bidi marks), selectors."""
    if ch.isspace():
        return True
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf", "Zs", "Zl", "Zp"):
        return True
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def dominant_script(text: str) -> str:
    """The ISO 15924 code of the script most characters of ``text`` are in.

    Common and Inherited characters (digits, punctuation, combining marks) do not vote; text
    made only of them is ``'Zyyy'``. A tie goes to the script that appears first.
    """
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for i, ch in enumerate(text):
        if _is_ignorable(ch):
            continue
        script = ft_unicodedata.script(ch)
        if script in ("Zyyy", "Zinh", "Zzzz"):
            continue
        counts[script] += 1
        first.setdefault(script, i)
    if not counts:
        return "Zyyy"
    return max(counts, key=lambda s: (counts[s], -first[s]))


def text_direction(text: str) -> str:
    """``'rtl'`` if the first strong bidi character is right-to-left, else ``'ltr'``."""
    for ch in text:
        bidi = unicodedata.bidirectional(ch)
        if bidi in _STRONG_BIDI:
            return "rtl" if bidi in _RTL_BIDI else "ltr"
    return "ltr"


def _base_language(language: str | None) -> str:
    return (language or "").replace("_", "-").split("-")[0].lower()


def _cjk_index(language: str | None, script: str, text: str) -> int:
    """Face in NotoSansCJK-*.ttc: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK."""
    tag = (language or "").replace("_", "-").lower()
    base = _base_language(language)
    if base == "ja" or script in ("Hira", "Kana"):
        return 0
    if base == "ko" or script == "Hang":
        return 1
    if tag.startswith("zh-hk") or tag.startswith("zh-mo") or base == "yue" or "hant-hk" in tag:
        return 4
    if "hant" in tag or tag.startswith("zh-tw"):
        return 3
    if any(ft_unicodedata.script(ch) in ("Hira", "Kana") for ch in text):
        return 0
    return 2


def _noto_name(script: str) -> str:
    """'Arab' → 'Arabic', 'Sarb' → 'OldSouthArabian', as in Noto file names."""
    name = ft_unicodedata.script_name(script, default="")
    return re.sub(r"[^A-Za-z0-9]", "", name)


def _candidates(script: str, language: str | None, bold: bool, text: str) -> list[tuple[str, int]]:
    """File names (and face index) to try first, best first."""
    weight = "Bold" if bold else "Regular"
    base = _base_language(language)
    if script in _CJK_SCRIPTS:
        index = _cjk_index(language, script, text)
        return [(f"NotoSansCJK-{weight}.ttc", index), (f"NotoSerifCJK-{weight}.ttc", index)]
    if script in _LATIN_LIKE:
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


def _search_dirs() -> tuple[str, ...]:
    extra = [d for d in os.environ.get(FONT_DIRS_ENV, "").split(os.pathsep) if d]
    return (*extra, *SYSTEM_FONT_DIRS)


@functools.lru_cache(maxsize=8)
def _font_index(dirs: tuple[str, ...]) -> dict[str, str]:
    """File name → full path of every font file under ``dirs`` (first folder wins)."""
    index: dict[str, str] = {}
    for folder in dirs:
        if not os.path.isdir(folder):
            continue
        for root, _subdirs, files in sorted(os.walk(folder)):
            for name in sorted(files):
                if name.lower().endswith(_FONT_SUFFIXES):
                    index.setdefault(name, os.path.join(root, name))
    return index


@dataclass(frozen=True)
class _FaceInfo:
    cmap: frozenset[int]
    family: str
    line_height: float


@functools.lru_cache(maxsize=2048)
def _face_info(path: str, index: int) -> _FaceInfo | None:
    """Character map, family name and line height of one face; None if unreadable."""
    try:
        if path.lower().endswith(".ttc"):
            collection = TTCollection(path, lazy=True)
            if index >= len(collection.fonts):
                return None
            font = collection.fonts[index]
        else:
            font = TTFont(path, lazy=True, fontNumber=index)
        cmap = frozenset(font.getBestCmap() or {})
        family = font["name"].getBestFamilyName() or Path(path).stem
        upm = font["head"].unitsPerEm
        hhea = font["hhea"]
        natural = (hhea.ascent - hhea.descent + hhea.lineGap) / upm
    except Exception:  # a broken font file is skipped, not fatal
        return None
    # Tall scripts (Nastaliq ~2.5 em, Tibetan ~2.8 em) declare huge extents; most of it is
    # headroom for rare stacks. 0.85 of it keeps real text apart without wasting the frame.
    line_height = min(2.4, max(1.3, natural * 0.85))
    return _FaceInfo(cmap, str(family), round(line_height, 3))


def _needed(text: str) -> frozenset[int]:
    return frozenset(ord(ch) for ch in text if not _is_ignorable(ch))


def _package_for(script: str) -> str:
    if script in _CJK_SCRIPTS:
        return "fonts-noto-cjk"
    if script in _LATIN_LIKE:
        return "fonts-noto-core"
    return "fonts-noto-core (rarer scripts: fonts-noto-extra)"


@functools.lru_cache(maxsize=4096)
def _choose(text: str, language: str | None, bold: bool, dirs: tuple[str, ...]) -> FontChoice:
    script = dominant_script(text)
    direction = text_direction(text)
    needed = _needed(text)
    index = _font_index(dirs)

    def choice(path: str, face: int, info: _FaceInfo) -> FontChoice:
        line_height = info.line_height
        if script not in _LATIN_LIKE and script not in _CJK_SCRIPTS:
            # Marks above and below the line (Indic vowel signs, Thai tone marks...).
            line_height = max(line_height, 1.5)
        return FontChoice(path, face, info.family, script, direction, line_height)

    for name, face in _candidates(script, language, bold, text):
        path = index.get(name)
        if path is None:
            continue
        info = _face_info(path, face)
        if info is not None and needed <= info.cmap:
            return choice(path, face, info)

    for path, face in _fallback_faces(index, bold):
        info = _face_info(path, face)
        if info is not None and needed <= info.cmap:
            return choice(path, face, info)

    script_name = ft_unicodedata.script_name(script, default=script)
    scripts = sorted(
        {ft_unicodedata.script(ch) for ch in text if not _is_ignorable(ch)}
        - {"Zyyy", "Zinh", "Zzzz"}
    )
    if len(scripts) > 1:
        names = ", ".join(ft_unicodedata.script_name(s, default=s) for s in scripts)
        hint = (
            f"The text mixes scripts ({names}) and no single installed font covers them all: "
            f"write it in one script, or install a font covering them and add its folder to "
            f"{FONT_DIRS_ENV}."
        )
    else:
        hint = f"Install the Debian package {_package_for(script)}."
    missing = "".join(sorted({ch for ch in text if not _is_ignorable(ch)})[:20])
    raise FontError(
        f"No installed font can draw {script_name} ({script}) text for language "
        f"{language or 'unknown'!s}: characters {missing!r}. {hint} "
        f"(searched: {', '.join(dirs)}).",
        code="font_missing",
        subject=language or script,
    )


def _fallback_faces(index: dict[str, str], bold: bool) -> Iterable[tuple[str, int]]:
    """One face per installed Noto family (Regular, or Bold, when there is one).

    Weights of a family share its character coverage, so checking one file per family keeps
    a full search to a few hundred character maps (under a second) instead of ~1,900 files.
    """
    wanted = "bold" if bold else "regular"
    families: dict[str, list[str]] = {}
    for name in sorted(index):
        if not name.lower().startswith("noto") or "italic" in name.lower():
            continue
        family = name.rsplit(".", 1)[0].split("-", 1)[0]
        families.setdefault(family, []).append(name)
    for _family, names in sorted(families.items()):
        best = next((n for n in names if n.rsplit(".", 1)[0].lower().endswith("-" + wanted)),
                    None)
        best = best or next((n for n in names if "-regular." in n.lower()), names[0])
        path = index[best]
        if best.lower().endswith(".ttc"):
            for face in range(5):
                yield path, face
        else:
            yield path, 0


def font_for(text: str, language: str | None = None, *, bold: bool = False) -> FontChoice:
    """A Noto font that covers every visible character of ``text``.

    Chosen by the script of the text (see the module docstring); ``language`` (BCP 47)
    refines the style: Nastaliq for Urdu and other Arabic-script languages of South Asia,
    the Japanese/Korean/Simplified/Traditional/Hong Kong face of Noto CJK.

    Raises :class:`FontError` naming the script and the Debian package to install.
    """
    return _choose(text, language, bold, _search_dirs())


def clear_caches() -> None:
    """Forget indexed font folders and choices (after installing fonts, or in tests)."""
    _choose.cache_clear()
    _font_index.cache_clear()
    _face_info.cache_clear()
