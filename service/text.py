"""One rule for every text a person types into Chorus (titles, sentences, names, roles,
notes, reasons, translations).

A text is refused when it holds

- a control character (C0/C1, NUL included: PostgreSQL cannot store NUL, and the others
  corrupt captions, CSV exports and logs); a multi-line text may hold line breaks and tabs;
- a bidirectional embedding, override or isolate control (U+202A–U+202E, U+2066–U+2069):
  they can make a name read backwards or hide text in staff pages, captions and reports (the
  "Trojan Source" trick). Chorus isolates names itself where it draws them (``<bdi>``, and
  Unicode isolates in captions). The marks U+200E/U+200F/U+061C and the joiners that scripts
  such as Arabic and Bengali need are allowed;
- a lone surrogate (not a character; no database can store it);
- no visible character at all (only spaces, format characters or blank look-alikes such as
  U+3164 HANGUL FILLER or U+2800 BRAILLE PATTERN BLANK).

Use the ``Line``/``OptionalLine``/``Paragraph`` annotated types in pydantic models, or
:func:`check_text` directly. The refusal is a :class:`TextRejected` (a ``ValueError``, so
pydantic turns it into a 422 naming the field) with a stable ``code``; :data:`TEXT_ERRORS`
holds each code's sentence for people, translated where it is shown.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

from service.i18n import N_

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5")
LINE_BREAKS = frozenset("\n\t")

TEXT_ERRORS: dict[str, str] = {
    "text.control": N_("This text contains a hidden control character. Please type it again "
                       "without copying it from elsewhere."),
    "text.bidi": N_("This text contains a hidden character that changes the direction of the "
                    "writing. Please type it again without copying it from elsewhere."),
    "text.invisible": N_("This text has no visible letters or signs. Please write something."),
}


class TextRejected(ValueError):
    """A text breaks the rule above; ``code`` is a key of :data:`TEXT_ERRORS`."""

    def __init__(self, code: str, position: int) -> None:
        super().__init__(f"{TEXT_ERRORS[code]} (character {position + 1})"
                         if code != "text.invisible" else TEXT_ERRORS[code])
        self.code = code
        self.position = position


def _visible(char: str) -> bool:
    category = unicodedata.category(char)
    return not (category[0] in "ZC" or char.isspace() or char in BLANK_LOOKALIKES)


def problem(value: str, *, multiline: bool = False) -> TextRejected | None:
    """What is wrong with ``value`` (None if nothing); empty strings are not judged here."""
    visible = False
    for position, char in enumerate(value):
        if char in BIDI_CONTROLS:
            return TextRejected("text.bidi", position)
        category = unicodedata.category(char)
        if category == "Cc" and not ((multiline and char in LINE_BREAKS) or
                                     (multiline and char == "\r")):
            return TextRejected("text.control", position)
        if category == "Cs":
            return TextRejected("text.control", position)
        visible = visible or _visible(char)
    if value and not visible:
        return TextRejected("text.invisible", 0)
    return None


def check_text(value: str, *, multiline: bool = False, required: bool = True) -> str:
    """``value`` if it is acceptable text, else raise :class:`TextRejected`.

    An empty (or all-whitespace) optional value passes as it is; a required one must have a
    visible character. Multi-line texts have ``\\r\\n`` normalised to ``\\n``.
    """
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not required and not value.strip():
        return value
    found = problem(value, multiline=multiline)
    if found is not None:
        raise found
    if required and not value:
        raise TextRejected("text.invisible", 0)
    return value


def _line(value: str) -> str:
    return check_text(value)


def _optional_line(value: str) -> str:
    return check_text(value, required=False)


def _paragraph(value: str) -> str:
    return check_text(value, multiline=True, required=False)


Line = Annotated[str, AfterValidator(_line)]
"""One line of text with at least one visible character (a title, a name, a sentence)."""
OptionalLine = Annotated[str, AfterValidator(_optional_line)]
"""One line of text, or empty (a role, a community)."""
Paragraph = Annotated[str, AfterValidator(_paragraph)]
"""Free text that may span lines, or be empty (a note, a reason)."""
