"""Languages of the leader pages: the supported list, negotiation, translations, direction.

The one list of locales is `locales/languages.json` (code, names, direction, web font).
Translations are gettext catalogs `locales/<code>/LC_MESSAGES/messages.po`, compiled in
memory with Babel the first time a locale is used (no `.mo` files in git, nothing to build:
editing a `.po` file and restarting is enough). `tests/unit/service/test_catalogs.py` keeps
`messages.pot` and every catalog in sync with the code.

Each catalog's opening comment says who reviewed it (`# X-Reviewed-By:`) and whether its
consent wording was reviewed by a person (`# X-Consent-Reviewed: yes|no`). Where it was not,
the consent page shows the English wording beside the translation, so nobody agrees to a
machine's words alone.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import Markup, escape

from service.clips.reasons import PROBLEM_REASONS

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
DEFAULT_LOCALE = "en"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Language:
    """One supported page language."""

    code: str
    english_name: str
    native_name: str
    direction: str
    font_family: str
    font_file: str
    line_height: float


@functools.cache
def languages() -> dict[str, Language]:
    """Every supported page language by code, in the order of languages.json."""
    data = json.loads((LOCALES_DIR / "languages.json").read_text(encoding="utf-8"))
    result: dict[str, Language] = {}
    for item in data["languages"]:
        result[item["code"]] = Language(
            code=item["code"], english_name=item["english_name"],
            native_name=item["native_name"], direction=item["direction"],
            font_family=item["font_family"], font_file=item["font_file"],
            line_height=float(item["line_height"]),
        )
    return result


def supported_locales() -> list[str]:
    return list(languages())


def match_locale(tag: str | None) -> str | None:
    """The supported locale for a BCP 47 tag (`ur-PK` → `ur`, `pa-Guru` → `pa`), or None.

    `pa-Arab` (Shahmukhi) has no catalog yet and does not match Gurmukhi `pa`.
    """
    if not tag:
        return None
    tag = tag.strip().replace("_", "-")
    known = languages()
    if tag in known:
        return tag
    parts = tag.split("-")
    base = parts[0].lower()
    if base == "pa" and any(p.lower() == "arab" for p in parts[1:]):
        return None
    return base if base in known else None


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags from an Accept-Language header, best first (q-values honoured)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        pieces = part.strip().split(";")
        tag = pieces[0].strip()
        quality = 1.0
        for param in pieces[1:]:
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(invite_language: str | None = None, requested: str | None = None,
              accept_language: str | None = None) -> str:
    """The page language: an explicit choice (`?lang=` or its cookie) first, else the invite's
    language, else the browser's Accept-Language, else English."""
    for candidate in (requested, invite_language, *parse_accept_language(accept_language)):
        found = match_locale(candidate)
        if found:
            return found
    return DEFAULT_LOCALE


def direction(locale: str) -> str:
    """`rtl` or `ltr` for a supported locale (or any tag whose base is supported)."""
    found = match_locale(locale)
    return languages()[found].direction if found else "ltr"


def language(locale: str) -> Language:
    return languages()[match_locale(locale) or DEFAULT_LOCALE]


def catalog_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


_REVIEW_LINE = re.compile(r"^#\s*(X-[A-Za-z-]+):\s*(.*?)\s*$")


@functools.cache
def catalog_headers(locale: str) -> dict[str, str]:
    """The catalog's review fields (`X-Reviewed-By`, `X-Consent-Reviewed`).

    They live in the catalog's opening comment (`# X-Reviewed-By: ...`): `pybabel update`
    keeps that comment but drops unknown header fields, so a comment is what survives the
    usual translator workflow.
    """
    path = catalog_path(locale)
    if not path.exists():
        return {}
    fields: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            match = _REVIEW_LINE.match(line)
            if match:
                fields[match.group(1)] = match.group(2)
    return fields


def consent_reviewed(locale: str) -> bool:
    """Whether a person reviewed this language's consent wording (English always counts)."""
    if locale == DEFAULT_LOCALE:
        return True
    return catalog_headers(locale).get("X-Consent-Reviewed", "no").strip().lower() == "yes"


def reviewed_by(locale: str) -> str:
    return catalog_headers(locale).get("X-Reviewed-By", "").strip()


@functools.cache
def translations(locale: str) -> gettext_module.NullTranslations:
    """Compiled translations for `locale` (from the .po file, in memory; fuzzy ones skipped)."""
    path = catalog_path(locale)
    if locale == DEFAULT_LOCALE or not path.exists():
        return gettext_module.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale.replace("-", "_"))
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def clear_caches() -> None:
    """Forget loaded catalogs (tests that edit them; a reload after editing a .po file)."""
    languages.cache_clear()
    translations.cache_clear()
    catalog_headers.cache_clear()


def _interpolate(text: str, variables: dict[str, Any]) -> str:
    """Fill `%(name)s` placeholders, HTML-safely: plain values are escaped, `Markup` values
    (e.g. a name wrapped in `<bdi>` by `bdi()`) are kept, so templates can isolate a Latin
    name inside a right-to-left sentence."""
    return escape(text) % variables


def bdi(value: object) -> Markup:
    """`value` isolated for the bidirectional algorithm (a Latin name in an Urdu sentence)."""
    return Markup("<bdi>%s</bdi>") % (value,)


@dataclass(frozen=True)
class Translator:
    """gettext functions for one locale, in Jinja's "newstyle" form: `_("Hi %(name)s", name=x)`."""

    locale: str

    def gettext(self, message: str, **variables: Any) -> str:
        text = translations(self.locale).gettext(message)
        return _interpolate(text, variables) if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        text = translations(self.locale).ngettext(singular, plural, n)
        variables.setdefault("num", n)
        return _interpolate(text, variables)

    @property
    def direction(self) -> str:
        return direction(self.locale)


def translator(locale: str) -> Translator:
    return Translator(match_locale(locale) or DEFAULT_LOCALE)


def install_jinja_i18n(env: Any) -> None:
    """Enable `{% trans %}` blocks in a Jinja2 environment (newstyle gettext).

    Per-request translations reach templates through the context (`_`, `gettext`,
    `ngettext` from `request.state`, see service/web/templating.py); these globals are the
    English fallback for templates rendered outside a request.
    """
    if "jinja2.ext.InternationalizationExtension" not in env.extensions:
        env.add_extension("jinja2.ext.i18n")
    english = Translator(DEFAULT_LOCALE)
    env.install_gettext_callables(english.gettext, english.ngettext, newstyle=True)


# --- Coded messages a leader can see (stable codes; the text is translated where shown) ---

ERRORS: dict[str, str] = {
    "invite.not_found": N_("This link does not work. Please check that you have the whole "
                           "link, or ask the person who sent it to you for a new one."),
    "invite.expired": N_("This link has expired. Please ask the person who sent it to you "
                         "for a new one."),
    "invite.revoked": N_("This link has been cancelled. Please ask the person who sent it to "
                         "you if you still want to take part."),
    "rate_limited": N_("Too many attempts. Please wait a minute and try again."),
    "consent.incomplete": N_("Please tick both boxes to agree before recording."),
    "consent.no_channel": N_("Please choose at least one place where the video may be shared."),
    "consent.required": N_("Please give your consent on the previous page before recording."),
    "upload.too_large": N_("The video is too large. Please record a shorter video."),
    "upload.not_media": N_("This file is not a video. Please choose a video file."),
    "upload.checksum_mismatch": N_("The video was damaged on the way. Please send it again."),
    "upload.expired": N_("Sending took too long and was stopped. Please send your video "
                         "again."),
    "upload.failed": N_("The video could not be sent. Please check your internet connection "
                        "and try again: sending continues where it stopped."),
    "upload.empty": N_("The recording is empty. Please record again."),
    "camera.denied": N_("The camera or microphone could not be used. Please allow access, or "
                        "choose a video from your phone instead."),
    "camera.unavailable": N_("This browser cannot record here. Please choose a video from "
                             "your phone instead."),
    "recording.time_limit": N_("The recording reached the time limit and stopped."),
    "server": N_("Something went wrong on our side. Please try again later."),
}

#: Media problems found when a clip is checked (codes from workers/media/probe.py).
#: Why the checks refused a clip: one table, kept with the other clip reasons.
CLIP_PROBLEMS: dict[str, str] = PROBLEM_REASONS

#: Where a leader may agree the video is shared (codes stored in Consent.channels).
CHANNEL_LABELS: dict[str, str] = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "whatsapp": "WhatsApp",
    "youtube": "YouTube",
    "tiktok": "TikTok",
    "x": "X (Twitter)",
    "website": N_("The organisation's website"),
    "newsletter": N_("Email newsletters"),
    "screens": N_("Screens in public buildings"),
    "broadcast": N_("Television and radio"),
}


def message_for(code: str, table: dict[str, str], t: Translator | Callable[[str], str]) -> str:
    """The translated text of a coded message (unknown codes fall back to a generic one)."""
    gettext = t.gettext if isinstance(t, Translator) else t
    text = table.get(code)
    if text is None:
        return gettext(ERRORS["server"]) if table is ERRORS else code
    return gettext(text)


def translated_table(table: dict[str, str], t: Translator,
                     codes: Iterable[str] | None = None) -> dict[str, str]:
    """A whole coded table in one language (for the page's script)."""
    return {code: t.gettext(text) for code, text in table.items()
            if codes is None or code in codes}
