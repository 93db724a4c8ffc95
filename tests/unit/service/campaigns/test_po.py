"""Translations as .po files: export, import round trip, and broken files stored not at all."""

from __future__ import annotations

import io

from babel.messages.pofile import read_po, write_po

from tests.fixtures.staff import create_campaign


def _translated(po: bytes, translations: dict[str, str], fuzzy: set[str] = frozenset()) -> bytes:
    catalog = read_po(io.BytesIO(po))
    for message in catalog:
        if message.id in translations:
            message.string = translations[message.id]
            if message.id in fuzzy:
                message.flags.add("fuzzy")
            else:
                message.flags.discard("fuzzy")
    out = io.BytesIO()
    write_po(out, catalog)
    return out.getvalue()


URDU = {"Flu can be serious.": "فلو سنگین ہو سکتا ہے۔",
        "The vaccine is free.": "ویکسین مفت ہے۔",
        "Ask your GP.": "اپنے جی پی سے پوچھیں۔"}


def test_export_has_one_entry_per_sentence_with_the_source_as_msgid(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    campaign = create_campaign(staff)
    response = staff.get(f"/campaigns/{campaign['id']}/translations/ur/export.po")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/x-gettext-translation")
    assert "attachment" in response.headers["content-disposition"]
    catalog = read_po(io.BytesIO(response.content))
    assert str(catalog.locale) == "ur"
    entries = [(m.id, m.string) for m in catalog if m.id]
    assert entries == [(s, "") for s in URDU]


def test_round_trip_po_import_then_export(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    cid = create_campaign(staff)["id"]
    exported = staff.get(f"/api/campaigns/{cid}/translations/ur/po").content
    filled = _translated(exported, URDU, fuzzy={"Ask your GP."})
    response = staff.api("POST", f"/api/campaigns/{cid}/translations/ur/po?approve=true",
                         files={"file": ("ur.po", filled, "text/x-gettext-translation")})
    assert response.status_code == 200, response.text
    assert response.json() == {"language": "ur", "updated": 3, "unchanged": 0, "empty": 0}
    rows = staff.get(f"/api/campaigns/{cid}/translations/ur").json()["translations"]
    assert [(r["text"], r["status"]) for r in rows] == [
        (URDU["Flu can be serious."], "approved"), (URDU["The vaccine is free."], "approved"),
        (URDU["Ask your GP."], "draft")]  # fuzzy stays a draft
    again = read_po(io.BytesIO(staff.get(f"/api/campaigns/{cid}/translations/ur/po").content))
    assert {m.id: m.string for m in again if m.id} == URDU
    assert [m.id for m in again if m.fuzzy and m.id] == ["Ask your GP."]
    # importing the same file again changes nothing
    response = staff.api("POST", f"/api/campaigns/{cid}/translations/ur/po?approve=true",
                         files={"file": ("ur.po", filled, "text/x-gettext-translation")})
    assert response.json()["unchanged"] == 3


def test_import_through_the_page(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    cid = create_campaign(staff)["id"]
    exported = staff.get(f"/campaigns/{cid}/translations/ur/export.po").content
    response = staff.form(f"/campaigns/{cid}/translations/ur/import", {},
                          files={"po_file": ("ur.po", _translated(exported, URDU), "text/plain")})
    assert response.status_code == 200
    assert "Imported: 3 updated" in response.text
    assert URDU["Ask your GP."] in response.text


def _assert_nothing_stored(staff, cid):
    rows = staff.get(f"/api/campaigns/{cid}/translations/ur").json()["translations"]
    assert all(r["status"] == "missing" for r in rows)


def test_broken_po_files_get_a_clear_error_and_store_nothing(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    cid = create_campaign(staff)["id"]
    exported = staff.get(f"/api/campaigns/{cid}/translations/ur/po").content
    good_then_unknown = _translated(exported, URDU) + (
        b'\nmsgid "A sentence that is not in the campaign."\nmsgstr "x"\n')
    cases = {
        b"this is not a po file\n": "not a valid .po file",
        b"": "The file is empty",
        "msgid \"Ask your GP.\"\nmsgstr \"é\"\n".encode("latin-1"): "not UTF-8",
        good_then_unknown: "1 entry does not match any sentence",
        _translated(exported, URDU).replace(b"Language: ur", b"Language: bn"):
            "translation into 'bn', not 'ur'",
        b'msgid "Ask your GP."\n': "not a valid .po file",
    }
    for data, message in cases.items():
        response = staff.api("POST", f"/api/campaigns/{cid}/translations/ur/po",
                             files={"file": ("ur.po", data, "text/plain")})
        assert response.status_code == 422, (data, response.text)
        assert response.json()["code"] == "invalid_po"
        assert message in response.json()["detail"], response.json()["detail"]
        _assert_nothing_stored(staff, cid)
    page = staff.form(f"/campaigns/{cid}/translations/ur/import", {},
                      files={"po_file": ("ur.po", good_then_unknown, "text/plain")})
    assert page.status_code == 422
    assert "does not match any sentence of this campaign" in page.text
    _assert_nothing_stored(staff, cid)


def test_po_for_a_language_outside_the_campaign_is_404(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    cid = create_campaign(staff)["id"]
    assert staff.get(f"/api/campaigns/{cid}/translations/fr/po").status_code == 404
