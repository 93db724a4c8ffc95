"""The one text rule: no control characters, no bidi overrides, something visible."""

from __future__ import annotations

import pytest

from service.text import TEXT_ERRORS, TextRejected, check_text
from tests.fixtures.staff import (  # noqa: F401
    CAMPAIGN_JSON,
    any_env,
    create_campaign,
    create_leader,
    env,
    fast_hashing,
)

HOSTILE = {
    "nul": ("Winter\x00vaccines", "text.control"),
    "escape": ("Winter \x1b[31mvaccines", "text.control"),
    "c1": ("Winter\x85vaccines", "text.control"),
    "override": ("Imam \u202eDEMHA", "text.bidi"),
    "embedding": ("\u202bشیخ", "text.bidi"),
    "isolate": ("a\u2066b\u2069", "text.bidi"),
    "spaces": ("   \u00a0\u3000", "text.invisible"),
    "zero width": ("\u200b\u200c\u2060", "text.invisible"),
    "hangul filler": ("\u3164\u3164", "text.invisible"),
    "braille blank": ("\u2800", "text.invisible"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_is_refused_with_its_reason(name):
    value, code = HOSTILE[name]
    with pytest.raises(TextRejected) as caught:
        check_text(value)
    assert caught.value.code == code
    assert TEXT_ERRORS[code].split(".")[0] in str(caught.value)


@pytest.mark.parametrize("value", ["Stay at home.", "گھر پر رہیں۔", "মসজিদ\u200c", "नमस्ते",
                                   "שלום\u200f", "Ksiądz Jan", "😀", "ꠍꠤꠟꠐꠤ"])
def test_real_text_in_any_script_passes(value):
    assert check_text(value) == value


def test_paragraphs_keep_line_breaks_but_not_other_controls():
    assert check_text("one\r\ntwo\tthree", multiline=True, required=False) == "one\ntwo\tthree"
    with pytest.raises(TextRejected):
        check_text("one\ntwo")
    with pytest.raises(TextRejected):
        check_text("one\x00two", multiline=True)
    assert check_text("", required=False) == ""


def test_every_text_field_of_the_api_refuses_hostile_text(any_env):  # noqa: F811
    staff = any_env.signed_in("ann@leeds.gov.uk", "admin")
    nul = "Winter\x00vaccines"
    for field, value in (("title", nul), ("title", "\u3164"), ("title", "Vote \u202eevil"),
                         ("sentences", ["Flu can be\x00 serious."]),
                         ("sentences", ["\u2800"]), ("intro_text", "Hi\x07"),
                         ("languages", [{"language": "ur", "language_name": "Urdu\x00"}])):
        response = staff.api("POST", "/api/campaigns", json={**CAMPAIGN_JSON, field: value})
        assert response.status_code == 422, (field, value, response.text)
        assert "hidden" in response.text or "no visible" in response.text
    assert staff.get("/api/campaigns").json() == []
    campaign = create_campaign(staff)
    for field in ("name", "role", "community", "contact"):
        body = {"name": "Imam Ahmed", "language": "ur", field: "Ahmed\u202e\x00"}
        response = staff.api("POST", "/api/leaders", json=body)
        assert response.status_code == 422, (field, response.text)
    sentence = staff.get(f"/api/campaigns/{campaign['id']}/translations/ur").json()
    sentence_id = sentence["translations"][0]["sentence_id"]
    response = staff.api("PUT", f"/api/campaigns/{campaign['id']}/translations/ur",
                         json={"translations": [{"sentence_id": sentence_id, "text": "x\x00"}]})
    assert response.status_code == 422
    response = staff.api("POST", "/api/users", json={
        "email": "vi@leeds.gov.uk", "name": "\u202eiV", "role": "viewer",
        "password": "correct horse battery"})
    assert response.status_code == 422
    # the page forms answer the same rule
    page = staff.form("/leaders/new", {"name": "Imam\x00 Ahmed", "language": "ur"})
    assert page.status_code == 422 and "hidden control character" in page.text


def test_the_translation_form_refuses_hidden_characters_with_a_message(env):  # noqa: F811
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    campaign = create_campaign(staff)
    rows = staff.get(f"/api/campaigns/{campaign['id']}/translations/ur").json()["translations"]
    page = staff.form(f"/campaigns/{campaign['id']}/translations/ur",
                      {f"text-{rows[0]['sentence_id']}": "گھر\u202e پر"})
    assert page.status_code == 422 and "changes the direction of the writing" in page.text
