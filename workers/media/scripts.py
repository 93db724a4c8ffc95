"""Which writing system each character of a line belongs to.

Fonts are chosen by script, not by language code: the same language is written in different
scripts (Punjabi in Gurmukhi or in Shahmukhi, Arabic script; Sylheti in Syloti Nagri or
Bengali), and a campaign may hold any BCP 47 tag. The language only refines the choice
(Nastaliq for Urdu, the right CJK face).

Digits, punctuation and spaces belong to no script (Unicode's Common and Inherited); a line
is itemised into script runs by the usual rules (UAX #24 style, :func:`resolve_scripts`),
so a full stop goes with the word it ends.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter

import regex
from fontTools import unicodedata as ft_unicodedata

#: Scripts drawn by one CJK font: Japanese mixes Han and kana, Korean Hangul and Han.
CJK_SCRIPTS = frozenset({"Hani", "Hira", "Kana", "Hang", "Bopo", "Hrkt", "Jpan", "Kore"})
_CJK_GROUP = frozenset({*CJK_SCRIPTS, "Hans", "Hant"})
#: Scripts Noto Sans itself covers (and the no-script codes, drawn with it by default).
LATIN_LIKE = frozenset({"Latn", "Cyrl", "Grek", "Zyyy", "Zinh", "Zzzz"})
#: Pseudo-script of emoji clusters (ISO 15924 "Zsye", symbols emoji presentation).
EMOJI = "Zsye"
#: Letters only Urdu-style orthographies use (Urdu, Shahmukhi Punjabi, Saraiki...): an
#: Arabic-script run holding one is drawn in Nastaliq even when the clip's language is not
#: Urdu ("Walsall for All — سب کے لیے" on an English card).
URDU_LETTERS = frozenset("ےںٹڈڑھۓ")
_NO_SCRIPT = ("Zyyy", "Zinh", "Zzzz")
_UNRESOLVED = ""


def is_ignorable(ch: str) -> bool:
    """Characters that need no glyph: spaces, format controls (ZWJ, bidi marks), selectors."""
    if ch.isspace():
        return True
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf", "Zs", "Zl", "Zp"):
        return True
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def needed(text: str) -> frozenset[int]:
    """Code points of ``text`` a font must have a glyph for."""
    return frozenset(ord(ch) for ch in text if not is_ignorable(ch))


def script_of(ch: str) -> str:
    """ISO 15924 code of one character (``'Zyyy'`` for digits and punctuation)."""
    return str(ft_unicodedata.script(ch))


def script_name(script: str) -> str:
    """'Hebr' → 'Hebrew'."""
    return str(ft_unicodedata.script_name(script, default=script))


def group(script: str) -> str:
    """Scripts one font draws together count as one ('Hira', 'Hang' → 'Hani')."""
    return "Hani" if script in _CJK_GROUP else script


def dominant_script(text: str) -> str:
    """The ISO 15924 code of the script most characters of ``text`` are in.

    Common and Inherited characters (digits, punctuation, combining marks) do not vote; text
    made only of them is ``'Zyyy'``. A tie goes to the script that appears first.
    """
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for i, ch in enumerate(text):
        if is_ignorable(ch):
            continue
        script = script_of(ch)
        if script in _NO_SCRIPT:
            continue
        counts[script] += 1
        first.setdefault(script, i)
    if not counts:
        return "Zyyy"
    return max(counts, key=lambda s: (counts[s], -first[s]))


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
    if "\ufe0f" in cluster or "\u20e3" in cluster:
        return True
    return bool(
        regex.match(r"\p{Emoji_Presentation}|\p{Regional_Indicator}", cluster)
        or (regex.match(r"\p{Extended_Pictographic}", cluster)
            and regex.search(r"\u200d|\p{Emoji_Modifier}", cluster))
    )


@functools.lru_cache(maxsize=65536)
def strong_scripts(text: str) -> tuple[str, ...]:
    """Script of every character (emoji clusters: 'Zsye'); '' for Common/Inherited ones."""
    out: list[str] = []
    for cluster in regex.findall(r"\X", text):
        if _is_emoji_cluster(cluster):
            out.extend(EMOJI for _ in cluster)
            continue
        for ch in cluster:
            script = script_of(ch)
            out.append(_UNRESOLVED if script in _NO_SCRIPT else group(script))
    return tuple(out)


def letters_in(text: str, script: str) -> str:
    """The characters of ``text`` in ``script`` (its letters), in order."""
    return "".join(ch for ch, s in zip(text, strong_scripts(text), strict=True) if s == script)


def is_mixed(text: str) -> bool:
    """True if ``text`` has letters of two scripts, or emoji."""
    found = {s for s in strong_scripts(text) if s}
    return len(found) > 1 or EMOJI in found


def primary_script(text: str, language: str | None) -> str:
    """The script whose runs use the clip's language: the language's own if present."""
    found = [s for s in strong_scripts(text) if s and s != EMOJI]
    wanted = language_script(language)
    if wanted and group(wanted) in found:
        return group(wanted)
    if not found:
        return "Zyyy"
    letters = "".join(ch for ch, s in zip(text, strong_scripts(text), strict=True)
                      if s and s != EMOJI)
    return group(dominant_script(letters))


def resolve_scripts(text: str) -> list[str]:
    """Script of every character by the usual script-run rules (UAX #24 style).

    Common and Inherited characters (spaces, digits, punctuation, ZWJ/ZWNJ, combining marks)
    take the script of the preceding strong character; opening punctuation, and anything before
    the first strong character, take the following one; a closing bracket takes its opening
    bracket's. A Common character whose Script_Extensions exclude the preceding script (an
    Arabic comma after "NHS") goes with the following text when that script allows it.
    """
    strong = strong_scripts(text)
    out = list(strong)
    current = _UNRESOLVED
    brackets: list[int] = []  # offsets of open brackets
    for i, ch in enumerate(text):
        if strong[i]:
            if strong[i] != EMOJI:
                current = strong[i]
            continue
        cat = unicodedata.category(ch)
        if cat in ("Mn", "Mc", "Me") or ch in "\u200c\u200d" or script_of(ch) == "Zinh":
            out[i] = out[i - 1] if i else _UNRESOLVED
            continue
        if cat in ("Ps", "Pi"):
            brackets.append(i)
            out[i] = _UNRESOLVED  # goes with what follows
            continue
        if cat in ("Pe", "Pf") and brackets:
            # same script as its opening bracket, i.e. as the first letters it encloses
            opened = brackets.pop()
            inside = next((s for s in strong[opened + 1:i] if s and s != EMOJI), _UNRESOLVED)
            out[i] = inside or current
            continue
        extensions = {group(s) for s in ft_unicodedata.script_extension(ch)}
        if current and extensions.isdisjoint({"Zyyy", "Zinh", current}):
            following = next((s for s in strong[i + 1:] if s and s != EMOJI), _UNRESOLVED)
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
        elif out[i] != EMOJI:
            following = out[i]
    previous = _UNRESOLVED
    for i, script in enumerate(out):
        if script == _UNRESOLVED:
            out[i] = previous or "Zyyy"
        elif script != EMOJI:
            previous = script
    return out
