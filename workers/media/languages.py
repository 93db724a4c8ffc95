"""Language names for lower thirds and captions, from CLDR (via Babel).

A campaign names each clip's language with a BCP 47 tag (``ur``, ``pa-Guru``, ``pa-Arab``,
``zh-Hans``, ``sr-Latn``, ``en-GB``...). The lower third shows the language in its own script
and in English ("اردو / Urdu", "ਪੰਜਾਬੀ / Punjabi"). CLDR knows the names of several hundred
languages; community languages it does not know (Sylheti ``syl``, Mirpuri/Pahari ``phr``...)
are still valid tags, and the campaign then gives the name itself (``language_name``).

Only the language's own name is shown, not the region or script ("ਪੰਜਾਬੀ", not
"ਪੰਜਾਬੀ (ਗੁਰਮੁਖੀ)"): the native script already tells the viewer which one it is, and for
``pa-Arab`` the name is looked up in that locale, so it comes out in Shahmukhi ("پنجابی").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError

from workers.media.errors import MediaError


class UnknownLanguageError(MediaError):
    """A well-formed tag whose language CLDR has no names for, and no name was given."""

    code = "unknown_language"


@dataclass(frozen=True)
class LanguageName:
    """A language's names: ``tag`` as given, ``native`` in its own script, ``english``."""

    tag: str
    native: str
    english: str

    @property
    def label(self) -> str:
        """"اردو / Urdu"; just one name when both are the same ("English")."""
        if self.native == self.english:
            return self.native
        return f"{self.native} / {self.english}"


# RFC 5646 section 2.1 (langtag / privateuse / grandfathered), matched case-insensitively.
_LANGTAG = r"""
    (?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})
    (?:-(?P<script>[a-z]{4}))?
    (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
    (?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)
    (?P<extensions>(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*)
    (?:-x(?:-[a-z0-9]{1,8})+)?
"""
_PRIVATEUSE = r"x(?:-[a-z0-9]{1,8})+"
_GRANDFATHERED = (
    "en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|"
    "i-pwn|i-tao|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de|art-lojban|cel-gaulish|no-bok|"
    "no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_TAG_RE = re.compile(
    rf"(?:(?P<langtag>{_LANGTAG})|{_PRIVATEUSE}|(?:{_GRANDFATHERED}))",
    re.IGNORECASE | re.VERBOSE,
)


def is_valid_tag(tag: str) -> bool:
    """True if ``tag`` is a well-formed BCP 47 language tag (RFC 5646 grammar).

    Well-formed, not necessarily registered: ``syl``, ``phr`` and ``pa-Arab-PK`` pass;
    ``en_GB`` (underscore), ``e``, ``en--GB`` and ``toolonglanguage`` do not. (Duplicate
    variants or singletons make a well-formed tag invalid; that finer check is left out.)
    """
    return isinstance(tag, str) and bool(_TAG_RE.fullmatch(tag))  # "ur\n" is not a tag


def base_language(tag: str) -> str:
    """The primary language subtag, lower-cased: ``pa-Arab-PK`` → ``pa``."""
    return tag.replace("_", "-").split("-", 1)[0].lower()


def _normal(tag: str) -> str:
    return tag.strip().replace("_", "-").lower()


def same_language(a: str | None, b: str | None) -> bool:
    """Whether two language tags name the same language: THE language match of Chorus.

    Tags are compared case-insensitively (``_`` read as ``-``, as gettext headers write it).
    One fallback, and only one: a tag with subtags matches its bare base language, either
    way round (``en-GB`` ~ ``en``, ``pa-Arab`` ~ ``pa``). Two different specific tags never
    match (``pa-Arab`` is not ``pa-Guru``: a different script is a different text; ``en-GB``
    is not ``en-US``), so a translation approved for one script is never shown for another.
    """
    if not a or not b:
        return False
    x, y = _normal(a), _normal(b)
    return x == y or x == base_language(y) or y == base_language(x)


def best_match(wanted: str, offered: Iterable[str]) -> str | None:
    """The offered tag that serves ``wanted``: an exact match first, else the
    :func:`same_language` fallback (in the order offered); ``None`` if none does."""
    tags = list(offered)
    exact = next((t for t in tags if _normal(t) == _normal(wanted)), None)
    return exact or next((t for t in tags if same_language(t, wanted)), None)


def _split_override(override: str) -> tuple[str, str]:
    """``"ꠍꠤꠟꠐꠤ / Sylheti"`` → native and English; one name alone serves as both."""
    text = override.strip()
    if " / " in text:
        native, english = text.split(" / ", 1)
        return native.strip(), english.strip()
    return text, text


def _capitalise(name: str) -> str:
    """Upper-case the first letter, as CLDR's stand-alone context does ("polski" → "Polski").

    Scripts without case (Arabic, Gurmukhi, Han...) are unchanged.
    """
    if name and name[0].islower():
        return name[0].upper() + name[1:]
    return name


def _parse(tag: str) -> Locale | None:
    """The most specific locale CLDR has for ``tag`` (dropping subtags it cannot use)."""
    m = _TAG_RE.fullmatch(tag)
    if not m or not m.group("langtag"):
        return None
    language = m.group("language").split("-", 1)[0].lower()
    script = (m.group("script") or "").title() or None
    region = (m.group("region") or "").upper() or None
    for candidate in (
        (language, script, region),
        (language, script, None),
        (language, None, region),
        (language, None, None),
    ):
        try:
            return Locale(candidate[0], territory=candidate[2], script=candidate[1])
        except (UnknownLocaleError, ValueError):
            continue
    return None


def language_name(tag: str, override: str | None = None) -> LanguageName:
    """Names of the language ``tag``: in its own script, and in English.

    ``override`` (the campaign's ``language_name``, "native / English" or a single name) wins
    over CLDR. Without it, a tag CLDR does not know raises :class:`UnknownLanguageError`;
    a malformed tag raises it too, with code ``invalid_language``.
    """
    if not is_valid_tag(tag):
        raise UnknownLanguageError(
            f"'{tag}' is not a valid BCP 47 language tag (examples: ur, pa-Guru, zh-Hans, en-GB)",
            code="invalid_language", subject=tag)
    if override is not None and override.strip():
        native, english = _split_override(override)
        return LanguageName(tag=tag, native=native, english=english)
    locale = _parse(tag)
    if locale is None:
        raise UnknownLanguageError(
            f"CLDR has no name for the language '{tag}'; give it in the campaign as "
            "language_name: \"<name in its own script> / <English name>\"",
            subject=tag)
    code = locale.language
    native = locale.languages.get(code) or locale.get_language_name(locale) or code
    english = Locale("en").languages.get(code) or code
    return LanguageName(tag=tag, native=_capitalise(native), english=english)
