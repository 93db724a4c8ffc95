"""The gettext catalogs stay in sync with the code (like SecureDrop's `pybabel extract` check).

Fails when a leader-facing string was added or changed without updating `messages.pot` and
every catalog. To fix, run the two commands in locales/README.md and translate the new
entries.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from service import i18n

REPO = Path(__file__).resolve().parents[3]
LOCALES = REPO / "locales"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")
FIX = ("run: pybabel extract -F locales/babel.cfg -o locales/messages.pot --no-location "
       "--sort-output . && pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching"
       " (then translate the new entries)")


def _ids(path: Path) -> set[str]:
    with path.open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id and isinstance(m.id, str)}


def test_messages_pot_matches_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "locales/babel.cfg",
         "-o", str(fresh), "--no-location", "--sort-output", "."],
        cwd=REPO, check=True, capture_output=True, timeout=120,
    )
    extracted, committed = _ids(fresh), _ids(LOCALES / "messages.pot")
    assert extracted == committed, (
        f"messages.pot is out of date: new {sorted(extracted - committed)}, "
        f"gone {sorted(committed - extracted)}; {FIX}")


@pytest.mark.parametrize("code", i18n.supported_locales())
def test_catalog_is_complete_and_says_who_reviewed_it(code: str) -> None:
    path = i18n.catalog_path(code)
    assert path.exists(), f"no catalog for {code}: {FIX}"
    template = _ids(LOCALES / "messages.pot")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=code)
    ids = {m.id for m in catalog if m.id}
    assert ids == template, (f"{code} catalog out of sync: missing {sorted(template - ids)}, "
                             f"obsolete {sorted(ids - template)}; {FIX}")
    headers = i18n.catalog_headers(code)
    assert headers.get("X-Reviewed-By"), f"{code}: the catalog must say who reviewed it"
    assert headers.get("X-Consent-Reviewed") in ("yes", "no")
    if code == "en":
        return
    for message in catalog:
        if not message.id:
            continue
        assert message.string, f"{code}: {message.id!r} is not translated"
        assert not message.fuzzy, f"{code}: {message.id!r} is fuzzy"
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
            PLACEHOLDER.findall(message.string)), f"{code}: placeholders differ in {message.id!r}"


def test_every_coded_message_is_extracted() -> None:
    template = _ids(LOCALES / "messages.pot")
    from service.clips.reasons import REJECT_REASONS

    for table in (i18n.ERRORS, REJECT_REASONS, i18n.CLIP_PROBLEMS):
        for code, text in table.items():
            assert text in template, f"{code} not in messages.pot"


def test_unreviewed_consent_wording_is_flagged() -> None:
    assert i18n.consent_reviewed("en")
    for code in i18n.supported_locales():
        reviewed = i18n.catalog_headers(code).get("X-Consent-Reviewed") == "yes"
        assert i18n.consent_reviewed(code) == reviewed
