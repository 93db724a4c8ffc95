"""Direction of drawn text: the Unicode bidi algorithm (UAX #9) and its explicit controls.

Levels come from FriBidi, the same library raqm (Pillow's layout engine) uses, through
ctypes: python-bidi only exposes a reordered string, not the level of each character, and a
line drawn run by run (one font per run) needs the levels to place the runs.

Text typed by people (a speaker's name, a role, a caption line) may carry explicit bidi
controls. An override (U+202E RIGHT-TO-LEFT OVERRIDE) in a name would reverse the letters
after it and could make a caption say something else, so drawn text is passed through
:func:`neutralise` (embeddings and overrides removed, unmatched isolates dropped), and names
and roles are drawn inside an isolate (:func:`isolate`, FSI…PDI) so nothing in them can
reorder the text around them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Protocol, TypeVar

from workers.media.errors import FontError
from workers.media.scripts import group, language_script, script_of

_RTL_BIDI = frozenset({"R", "AL"})
_STRONG_BIDI = frozenset({"L", "R", "AL"})
_FRIBIDI_PAR = {"ltr": 0x110, "rtl": 0x111}  # FRIBIDI_PAR_LTR, FRIBIDI_PAR_RTL

#: LRE, RLE, PDF, LRO, RLO: embeddings and overrides, never kept in drawn text.
EMBEDDINGS_AND_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e")
_ISOLATE_OPEN = frozenset("\u2066\u2067\u2068")  # LRI, RLI, FSI
_PDI = "\u2069"
FSI = "\u2068"
PDI = _PDI
#: Every explicit directional formatting character (marks such as LRM/RLM are not among them).
BIDI_CONTROLS = EMBEDDINGS_AND_OVERRIDES | _ISOLATE_OPEN | {_PDI}


def neutralise(text: str) -> str:
    """``text`` without embeddings and overrides, and with only matched isolate pairs.

    What is left cannot reorder anything outside itself: every isolate it opens it closes.
    """
    out: list[str] = []
    opened: list[int] = []  # positions in ``out`` of isolate initiators not yet closed
    for ch in text:
        if ch in EMBEDDINGS_AND_OVERRIDES:
            continue
        if ch in _ISOLATE_OPEN:
            opened.append(len(out))
        elif ch == _PDI:
            if not opened:
                continue
            opened.pop()
        out.append(ch)
    for position in reversed(opened):  # initiators never closed
        del out[position]
    return "".join(out)


def isolate(text: str) -> str:
    """``text`` neutralised and wrapped in FSI…PDI: its direction is its own first strong
    letter's, and nothing in it can reorder the text it is drawn next to."""
    clean = neutralise(text)
    return f"{FSI}{clean}{PDI}" if clean else ""


#: A number with hyphens or dots between its groups: a phone number (0121-555-0123).
_GROUPED_NUMBER = re.compile(r"\d+(?:[-\u2010\u2011\u2013.]\d+)+")
LRI = "\u2066"


def keep_numbers_whole(text: str) -> str:
    """Phone numbers and other hyphen-grouped numbers kept left to right as one piece.

    After an Arabic letter, UAX #9 turns digits into Arabic numbers, and a hyphen between
    Arabic numbers stays neutral: "0121-555-0123" in an Urdu line comes out as
    "0123-555-0121", in every conforming renderer. Wrapping such a number in a
    left-to-right isolate (LRI…PDI) is the remedy Unicode recommends; elsewhere it changes
    nothing.
    """
    return _GROUPED_NUMBER.sub(lambda m: f"{LRI}{m.group()}{PDI}", text)


def without_controls(text: str) -> str:
    """``text`` without explicit directional controls (for a run already at one level)."""
    return "".join(ch for ch in text if ch not in BIDI_CONTROLS)


def text_direction(text: str) -> str:
    """``'rtl'`` if the first strong bidi character is right-to-left, else ``'ltr'``."""
    for ch in text:
        bidi = unicodedata.bidirectional(ch)
        if bidi in _STRONG_BIDI:
            return "rtl" if bidi in _RTL_BIDI else "ltr"
    return "ltr"


def _sample_char(script: str) -> str:
    samples = {"Arab": "ا", "Hebr": "א", "Syrc": "ܐ", "Thaa": "ދ", "Nkoo": "ߊ", "Adlm": "𞤀"}
    return samples.get(script, "a")


def paragraph_direction(text: str, language: str | None = None) -> str:
    """Direction of a paragraph: that of the language's own script when the text has letters
    of it ("walsall.gov.uk پر جائیں" in an Urdu clip is right-to-left), else the first strong
    character's (UAX #9 P2-P3), else the language's script, else left-to-right.
    """
    wanted = language_script(language)
    if wanted:
        for ch in text:
            bidi = unicodedata.bidirectional(ch)
            if bidi in _STRONG_BIDI and group(script_of(ch)) == group(wanted):
                return "rtl" if bidi in _RTL_BIDI else "ltr"
    for ch in text:
        if unicodedata.bidirectional(ch) in _STRONG_BIDI:
            return text_direction(text)
    if wanted and unicodedata.bidirectional(_sample_char(wanted)) in _RTL_BIDI:
        return "rtl"
    return "ltr"


@functools.cache
def _fribidi() -> ctypes.CDLL:
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
    accordingly. Numbers inside right-to-left text come out at an even (left-to-right) level;
    isolates (FSI…PDI) are resolved on their own, as the algorithm says.
    """
    n = len(text)
    if n == 0:
        return []
    lib = _fribidi()
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


class _Levelled(Protocol):
    @property
    def level(self) -> int: ...


T = TypeVar("T", bound=_Levelled)


def visual_order(runs: Iterable[T]) -> list[T]:
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
