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
    direction: str  # 'ltr' | 'rtl' (for mixed-script text: the paragraph direction)
    line_height: float  # multiple of the font size between baselines (Nastaliq needs ~2)
    bold: bool = False
    #: Colour bitmap fonts (Noto Color Emoji, CBDT) load at one pixel size only; drawn there
    #: and scaled. 0 for ordinary outline fonts.
    bitmap_px: int = 0


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
        return FontChoice(path, face, info.family, script, direction, line_height, bold)

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

    Text mixing scripts ("NHS کی حفاظت کریں۔") gets the font of its primary script (the
    language's own when present, else the dominant one), the paragraph direction
    (:func:`paragraph_direction`) and a line height tall enough for every run; the other
    runs get their own fonts when the text is laid out (:func:`text_runs`). Every run's
    font is checked here, so an uncovered character fails now, not when drawing.

    Chosen by the script of the text (see the module docstring); ``language`` (BCP 47)
    refines the style: Nastaliq for Urdu and other Arabic-script languages of South Asia,
    the Japanese/Korean/Simplified/Traditional/Hong Kong face of Noto CJK.

    Raises :class:`FontError` naming the script and the Debian package to install.
    """
    dirs = _search_dirs()
    if not is_mixed(text):
        return _choose(text, language, bold, dirs)
    return _choose_mixed(text, language, bold, dirs)


def clear_caches() -> None:
    """Forget indexed font folders and choices (after installing fonts, or in tests)."""
    _choose.cache_clear()
    _choose_mixed.cache_clear()
    _emoji_font.cache_clear()
    _layout_runs.cache_clear()
    _font_index.cache_clear()
    _face_info.cache_clear()


# --- Mixed-script text -------------------------------------------------------------------
#
# Real captions mix scripts: "NHS کی حفاظت کریں۔", "walsall.gov.uk پر جائیں", a Polish sentence
# with an Urdu name. No single Noto font covers two scripts well (Nastaliq has no Latin
# letters), so such text is itemised into runs (one script and one bidi level each), every run
# gets the font of its own script, and the runs are laid out in visual order by the Unicode
# bidi algorithm. The levels come from FriBidi, the same library raqm (Pillow's layout engine)
# uses, through ctypes: python-bidi only exposes a reordered string, not levels per character.

_FRIBIDI_PAR = {"ltr": 0x110, "rtl": 0x111}  # FRIBIDI_PAR_LTR, FRIBIDI_PAR_RTL
_EMOJI_FILE = "NotoColorEmoji.ttf"
_EMOJI_PACKAGE = "fonts-noto-color-emoji"
#: Scripts drawn by one CJK font: Japanese mixes Han and kana, Korean Hangul and Han.
_CJK_GROUP = frozenset({*_CJK_SCRIPTS, "Hans", "Hant"})
#: Letters only Urdu-style orthographies use (Urdu, Shahmukhi Punjabi, Saraiki...): an
#: Arabic-script run holding one is drawn in Nastaliq even when the clip's language is not
#: Urdu ("Walsall for All — سب کے لیے" on an English card).
_URDU_LETTERS = frozenset("ےںٹڈڑھۓ")
_UNRESOLVED = ""


def _group(script: str) -> str:
    return "Hani" if script in _CJK_GROUP else script


@dataclass(frozen=True)
class Run:
    """A piece of a line drawn with one font in one direction (logical text of the piece)."""

    text: str
    start: int  # offset in the line (code points)
    level: int  # bidi embedding level: odd is right-to-left
    script: str  # ISO 15924 (``'Zsye'`` for emoji, ``'Zyyy'`` for digits/punctuation only)
    font: FontChoice
    language: str | None

    @property
    def direction(self) -> str:
        return "rtl" if self.level % 2 else "ltr"


@functools.cache
def _fribidi() -> object:
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("fribidi") or "libfribidi.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise FontError(
            "Mixed-script captions need the FriBidi library (the same one raqm uses): install "
            f"libfribidi0 (apt-get install libfribidi0). ({exc})",
            code="font_missing",
        ) from exc
    u32p = ctypes.POINTER(ctypes.c_uint32)
    lib.fribidi_get_bidi_types.argtypes = [u32p, ctypes.c_int, u32p]
    lib.fribidi_get_bidi_types.restype = None
    lib.fribidi_get_bracket_types.argtypes = [u32p, ctypes.c_int, u32p, u32p]
    lib.fribidi_get_bracket_types.restype = None
    lib.fribidi_get_par_embedding_levels_ex.argtypes = [
        u32p, u32p, ctypes.c_int, u32p, ctypes.POINTER(ctypes.c_int8)
    ]
    lib.fribidi_get_par_embedding_levels_ex.restype = ctypes.c_int8
    return lib


def bidi_levels(text: str, direction: str) -> list[int]:
    """Resolved bidi embedding level of every code point (UAX #9, rules up to L1).

    ``direction`` is the paragraph direction ('ltr' or 'rtl'): levels are 0/1-based
    accordingly. Numbers inside right-to-left text come out at an even (left-to-right) level.
    """
    import ctypes

    n = len(text)
    if n == 0:
        return []
    lib: ctypes.CDLL = _fribidi()  # type: ignore[assignment]
    chars = (ctypes.c_uint32 * n)(*(ord(ch) for ch in text))
    types = (ctypes.c_uint32 * n)()
    brackets = (ctypes.c_uint32 * n)()
    levels = (ctypes.c_int8 * n)()
    par = ctypes.c_uint32(_FRIBIDI_PAR[direction])
    lib.fribidi_get_bidi_types(chars, n, types)
    lib.fribidi_get_bracket_types(chars, n, types, brackets)
    if lib.fribidi_get_par_embedding_levels_ex(types, brackets, n, ctypes.byref(par), levels) <= 0:
        raise FontError(f"FriBidi could not resolve the direction of {text!r}", code="font_missing")
    return [int(level) for level in levels]


def language_script(language: str | None) -> str | None:
    """The script a language is usually written in (CLDR likely subtags): 'ur' → 'Arab'.

    An explicit script subtag wins ('pa-Arab' → 'Arab'). None if unknown.
    """
    if not language:
        return None
    parts = language.replace("_", "-").split("-")
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            return part.title()
    from babel.core import get_global

    likely = get_global("likely_subtags").get(parts[0].lower())
    if not likely:
        return None
    for part in str(likely).split("_")[1:]:
        if len(part) == 4 and part.isalpha():
            return part
    return None


def _is_emoji_cluster(cluster: str) -> bool:
    import regex

    if "\ufe0f" in cluster or "\u20e3" in cluster:
        return True
    return bool(
        regex.match(r"\p{Emoji_Presentation}|\p{Regional_Indicator}", cluster)
        or (regex.match(r"\p{Extended_Pictographic}", cluster)
            and regex.search(r"\u200d|\p{Emoji_Modifier}", cluster))
    )


@functools.lru_cache(maxsize=65536)
def _strong_scripts(text: str) -> tuple[str, ...]:
    """Script of every character (emoji clusters: 'Zsye'); '' for Common/Inherited ones."""
    import regex

    out: list[str] = []
    for cluster in regex.findall(r"\X", text):
        if _is_emoji_cluster(cluster):
            out.extend("Zsye" for _ in cluster)
            continue
        for ch in cluster:
            script = ft_unicodedata.script(ch)
            out.append(_UNRESOLVED if script in ("Zyyy", "Zinh", "Zzzz") else _group(script))
    return tuple(out)


def is_mixed(text: str) -> bool:
    """True if ``text`` needs more than one font: letters of two scripts, or emoji."""
    found = {s for s in _strong_scripts(text) if s}
    return len(found) > 1 or "Zsye" in found


def _resolve_scripts(text: str) -> list[str]:
    """Script of every character by the usual script-run rules (UAX #24 style).

    Common and Inherited characters (spaces, digits, punctuation, ZWJ/ZWNJ, combining marks)
    take the script of the preceding strong character; opening punctuation, and anything before
    the first strong character, take the following one; a closing bracket takes its opening
    bracket's. A Common character whose Script_Extensions exclude the preceding script (an
    Arabic comma after "NHS") goes with the following text when that script allows it.
    """
    strong = _strong_scripts(text)
    out = list(strong)
    current = _UNRESOLVED
    brackets: list[int] = []  # offsets of open brackets
    for i, ch in enumerate(text):
        if strong[i]:
            if strong[i] != "Zsye":
                current = strong[i]
            continue
        cat = unicodedata.category(ch)
        if cat in ("Mn", "Mc", "Me") or ch in "\u200c\u200d" or ft_unicodedata.script(ch) == "Zinh":
            out[i] = out[i - 1] if i else _UNRESOLVED
            continue
        if cat in ("Ps", "Pi"):
            brackets.append(i)
            out[i] = _UNRESOLVED  # goes with what follows
            continue
        if cat in ("Pe", "Pf") and brackets:
            # same script as its opening bracket, i.e. as the first letters it encloses
            opened = brackets.pop()
            inside = next((s for s in strong[opened + 1:i] if s and s != "Zsye"), _UNRESOLVED)
            out[i] = inside or current
            continue
        extensions = {_group(s) for s in ft_unicodedata.script_extension(ch)}
        if current and extensions.isdisjoint({"Zyyy", "Zinh", current}):
            following = next((s for s in strong[i + 1:] if s and s != "Zsye"), _UNRESOLVED)
            out[i] = following if following in extensions else _UNRESOLVED
            if out[i] == _UNRESOLVED:
                out[i] = sorted(extensions)[0]
            continue
        out[i] = current
    # Unresolved (opening punctuation, leading neutrals): the following script, else preceding.
    following = _UNRESOLVED
    for i in range(len(out) - 1, -1, -1):
        if out[i] == _UNRESOLVED:
            out[i] = following
        elif out[i] != "Zsye":
            following = out[i]
    previous = _UNRESOLVED
    for i, script in enumerate(out):
        if script == _UNRESOLVED:
            out[i] = previous or "Zyyy"
        elif script != "Zsye":
            previous = script
    return out


def paragraph_direction(text: str, language: str | None = None) -> str:
    """Direction of a paragraph: that of the language's own script when the text has letters
    of it ("walsall.gov.uk پر جائیں" in an Urdu clip is right-to-left), else the first strong
    character's (UAX #9 P2-P3), else the language's script, else left-to-right.
    """
    wanted = language_script(language)
    if wanted:
        for ch in text:
            bidi = unicodedata.bidirectional(ch)
            if bidi in _STRONG_BIDI and _group(ft_unicodedata.script(ch)) == _group(wanted):
                return "rtl" if bidi in _RTL_BIDI else "ltr"
    for ch in text:
        if unicodedata.bidirectional(ch) in _STRONG_BIDI:
            return text_direction(text)
    if wanted and unicodedata.bidirectional(_sample_char(wanted)) in _RTL_BIDI:
        return "rtl"
    return "ltr"


def _sample_char(script: str) -> str:
    samples = {"Arab": "ا", "Hebr": "א", "Syrc": "ܐ", "Thaa": "ދ", "Nkoo": "ߊ", "Adlm": "𞤀"}
    return samples.get(script, "a")


def _primary_script(text: str, language: str | None) -> str:
    """The script whose runs use the clip's language: the language's own if present."""
    found = [s for s in _strong_scripts(text) if s and s != "Zsye"]
    wanted = language_script(language)
    if wanted and _group(wanted) in found:
        return _group(wanted)
    if not found:
        return "Zyyy"
    scripts = _strong_scripts(text)
    letters = "".join(ch for ch, s in zip(text, scripts, strict=True) if s and s != "Zsye")
    return _group(dominant_script(letters))


@functools.lru_cache(maxsize=8)
def _emoji_font(dirs: tuple[str, ...], direction: str) -> FontChoice:
    path = _font_index(dirs).get(_EMOJI_FILE)
    if path is None:
        raise FontError(
            f"The text has emoji and no emoji font is installed: install the Debian package "
            f"{_EMOJI_PACKAGE} (searched: {', '.join(dirs)}).",
            code="font_missing", subject="emoji",
        )
    try:
        font = TTFont(path, lazy=True)
        strike = int(font["CBLC"].strikes[0].bitmapSizeTable.ppemY)
    except Exception as exc:
        raise FontError(
            f"The emoji font {path} is not a colour bitmap font Pillow can draw ({exc}); "
            f"install the Debian package {_EMOJI_PACKAGE}.",
            code="font_missing", subject="emoji",
        ) from exc
    return FontChoice(path, 0, "Noto Color Emoji", "Zsye", direction, 1.3, False, strike)


def _covers(font: FontChoice, text: str) -> bool:
    info = _face_info(font.path, font.index)
    return info is not None and _needed(text) <= info.cmap


def _run_language(script: str, text: str, language: str | None, primary: str) -> str | None:
    if _group(script) == primary:
        return language
    wanted = language_script(language)
    if wanted and _group(wanted) == _group(script):
        return language
    if script == "Arab" and any(ch in _URDU_LETTERS for ch in text):
        return "ur"
    return None


def _fonts_for_piece(
    text: str, script: str, language: str | None, primary: FontChoice | None, bold: bool,
    direction: str, dirs: tuple[str, ...],
) -> list[tuple[str, FontChoice]]:
    """(sub-text, font) pieces covering ``text``: the script's font, and for a Common
    character it lacks (an em dash beside Naskh letters), the first font that has it."""
    if script == "Zsye":
        return [(text, _emoji_font(dirs, direction))]
    letters = "".join(ch for ch in text if not _is_ignorable(ch)
                      and ft_unicodedata.script(ch) not in ("Zyyy", "Zinh", "Zzzz"))
    if primary is not None and _group(primary.script) == _group(script) and (
        not letters or _covers(primary, letters)
    ):
        main = primary
    else:
        main = _choose(letters or text, language, bold, dirs)
    if _covers(main, text):
        return [(text, main)]
    pieces: list[tuple[str, FontChoice]] = []
    for ch in text:
        if _is_ignorable(ch) or _covers(main, ch):
            font = main
        elif primary is not None and _covers(primary, ch):
            font = primary
        else:
            font = _choose(ch, None, bold, dirs)
        if pieces and pieces[-1][1] == font:
            pieces[-1] = (pieces[-1][0] + ch, font)
        else:
            pieces.append((ch, font))
    return pieces


@functools.lru_cache(maxsize=16384)
def _layout_runs(
    text: str, direction: str, language: str | None, primary: FontChoice | None, bold: bool,
    dirs: tuple[str, ...],
) -> tuple[Run, ...]:
    scripts = _resolve_scripts(text)
    levels = bidi_levels(text, direction)
    primary_script = _group(primary.script) if primary else _primary_script(text, language)
    runs: list[Run] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i < len(text) and scripts[i] == scripts[start] and levels[i] == levels[start]:
            continue
        piece, script, level = text[start:i], scripts[start], levels[start]
        run_language = _run_language(script, piece, language, primary_script)
        offset = start
        for sub, font in _fonts_for_piece(
            piece, script, run_language, primary, bold, direction, dirs
        ):
            last = runs[-1] if runs else None
            if last and last.font == font and last.level == level and \
                    last.language == run_language:
                runs[-1] = Run(last.text + sub, last.start, level, last.script, font,
                               run_language)
            else:
                runs.append(Run(sub, offset, level, script, font, run_language))
            offset += len(sub)
        start = i
    return tuple(runs)


def visual_order(runs: Iterable[Run]) -> list[Run]:
    """Runs in the order they appear left to right (UAX #9 rule L2, applied to whole runs)."""
    out = list(runs)
    if not out:
        return out
    highest = max(r.level for r in out)
    odd = [r.level for r in out if r.level % 2]
    lowest_odd = min(odd) if odd else highest + 1
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(out):
            if out[i].level < level:
                i += 1
                continue
            j = i
            while j < len(out) and out[j].level >= level:
                j += 1
            out[i:j] = out[i:j][::-1]
            i = j
    return out


def text_runs(
    text: str, language: str | None = None, *, font: FontChoice | None = None,
    direction: str | None = None, bold: bool | None = None,
) -> list[Run]:
    """``text`` as runs in logical order, each with the font that draws it.

    ``font`` (from :func:`font_for`) is used for runs in its own script and gives the
    paragraph direction; runs in other scripts get the Noto font of their script (the clip's
    language refines it when the run is in the language's script). Raises :class:`FontError`
    naming the script and package for a character no installed font covers.
    """
    if direction is None:
        direction = font.direction if font else paragraph_direction(text, language)
    if bold is None:
        bold = font.bold if font else False
    return list(_layout_runs(text, direction, language, font, bold, _search_dirs()))


@functools.lru_cache(maxsize=65536)
def needs_runs(text: str, font: FontChoice) -> bool:
    """False when ``font`` alone draws ``text`` (the fast single-script path)."""
    if font.bitmap_px:
        return True
    found = {s for s in _strong_scripts(text) if s}
    if "Zsye" in found or len(found) > 1:
        return True
    if found and found != {_group(font.script)} and font.script not in ("Zyyy", "Zinh"):
        return True
    return not _covers(font, text)


@functools.lru_cache(maxsize=1024)
def _choose_mixed(
    text: str, language: str | None, bold: bool, dirs: tuple[str, ...]
) -> FontChoice:
    direction = paragraph_direction(text, language)
    script = _primary_script(text, language)
    scripts = _strong_scripts(text)
    letters = "".join(ch for ch, s in zip(text, scripts, strict=True) if s == script)
    primary = _choose(letters, language, bold, dirs)
    primary = FontChoice(primary.path, primary.index, primary.family, primary.script,
                         direction, primary.line_height, bold)
    runs = _layout_runs(text, direction, language, primary, bold, dirs)  # every char covered
    line_height = max(r.font.line_height for r in runs)
    if any(r.font.script not in _LATIN_LIKE | _CJK_SCRIPTS | {"Zsye"} for r in runs):
        line_height = max(line_height, 1.5)
    return FontChoice(primary.path, primary.index, primary.family, primary.script, direction,
                      line_height, bold)
