"""Every reason the checks can refuse a clip for has a sentence in every leader locale.

The codes are read out of the media library's source (every ``code="..."``, class ``code``
and ``Problem("...")``), so a new refusal without a sentence fails here, in CI, rather than
showing a leader "There was a problem with your video: unsafe_input."
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from markupsafe import escape

from service import i18n
from service.clips.reasons import PROBLEM_REASONS, problem_message
from service.invitations.endpoints import _status_text

MEDIA = Path(__file__).resolve().parents[4] / "workers" / "media"
#: The modules whose errors end on a clip (the probe stage catches what they raise).
CHECKED = ("probe.py", "ffmpeg.py", "errors.py", "formats.py")
_CODE = re.compile(r"""code\s*=\s*"([a-z_]+)"|Problem\(\s*"([a-z_]+)\"""")


def media_codes() -> set[str]:
    codes: set[str] = set()
    for name in CHECKED:
        for match in _CODE.finditer((MEDIA / name).read_text(encoding="utf-8")):
            codes.add(match[1] or match[2])
    return codes


def test_the_source_scan_finds_the_codes_it_should() -> None:
    codes = media_codes()
    assert {"unsafe_input", "ffmpeg_failed", "timeout", "truncated", "resolution_too_low",
            "not_media", "too_long"} <= codes


def test_every_media_code_has_a_sentence() -> None:
    missing = media_codes() - set(PROBLEM_REASONS)
    assert not missing, f"no leader sentence for {sorted(missing)} in service/clips/reasons.py"


LEADER_LOCALES = [code for code in i18n.supported_locales() if code != "en"]


@pytest.mark.parametrize("locale", LEADER_LOCALES)
def test_every_code_is_translated_in_every_leader_locale(locale: str) -> None:
    t = i18n.translator(locale)
    assert t.locale == locale
    for code in sorted(media_codes() | set(PROBLEM_REASONS)):
        english = problem_message(code)
        translated = t.gettext(english)
        assert translated and translated != english, f"{locale}: {code} is not translated"
        text = _status_text(SimpleNamespace(status="failed", error_code=code), t)
        assert code not in text and escape(translated) in text, f"{locale}: {text!r}"


def test_an_unknown_code_still_gets_a_sentence() -> None:
    t = i18n.translator("pl")
    text = _status_text(SimpleNamespace(status="failed", error_code="brand_new_code"), t)
    assert "brand_new_code" not in text
    assert t.gettext(PROBLEM_REASONS["ffmpeg_failed"]) in text
