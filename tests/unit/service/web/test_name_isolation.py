"""Names and titles are isolated wherever staff pages draw them (``<bdi>``, or Unicode
isolates where an element cannot go), so a right-to-left name cannot reorder the page."""

from __future__ import annotations

import re
from pathlib import Path

from service.web.templating import TEMPLATES_DIR
from tests.fixtures.staff import create_campaign, create_leader

SERVICE = TEMPLATES_DIR.parents[1]
FREE_TEXT = re.compile(
    r"\{\{ *((?:[a-z_]+\.)+(?:name|title|speaker_name|speaker_role|community)"
    r"(?: or [a-z_.]+)?)( *\|[^}]*)? *\}\}")


def _staff_templates() -> list[Path]:
    found = [p for p in SERVICE.glob("*/templates/**/*.html") if "leader" not in p.parts]
    return [p for p in found if p.name != "api_docs.html"]


def test_every_drawn_name_in_staff_templates_is_isolated():
    unisolated = []
    for path in _staff_templates():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for match in FREE_TEXT.finditer(line):
                if match.group(1).startswith("values."):
                    continue  # a form field's value="": the browser isolates input text
                before = line[:match.start()]
                isolated = before.endswith("<bdi>") or "isolate" in (match.group(2) or "")
                in_value = before.rstrip().endswith('value="')
                if not (isolated or in_value):
                    unisolated.append(f"{path.relative_to(SERVICE)}:{number}: {match.group(0)}")
    assert _staff_templates() and not unisolated, "\n".join(unisolated)


def test_a_right_to_left_name_is_drawn_in_bdi(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    campaign = create_campaign(staff, title="تطعيم الشتاء")
    create_leader(staff, "الشيخ أحمد", "ur")
    leaders = staff.get("/leaders").text
    assert "<bdi>الشيخ أحمد</bdi>" in leaders
    invites = staff.get(f"/campaigns/{campaign['id']}/invites").text
    assert "\u2068الشيخ أحمد\u2069" in invites  # in an <option>
    assert "<bdi>تطعيم الشتاء</bdi>" in invites
    assert "<title>" in invites and "\u2068تطعيم الشتاء\u2069" in invites
