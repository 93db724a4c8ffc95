"""Campaigns: create, read, update, delete through pages and the JSON API; validation."""

from __future__ import annotations

import io

from PIL import Image

from tests.fixtures.staff import (
    CAMPAIGN_FORM,
    CAMPAIGN_JSON,
    create_campaign,
)


def _png(size: tuple[int, int] = (40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_create_campaign_through_the_form_with_a_logo(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    response = staff.form("/campaigns/new", CAMPAIGN_FORM,
                          files={"logo": ("logo.png", _png(), "image/png")})
    assert response.status_code == 303, response.text
    campaign_url = response.headers["location"]
    campaign_id = campaign_url.rsplit("/", 1)[1]
    data = staff.get(f"/api/campaigns/{campaign_id}").json()
    assert data["title"] == "Winter vaccines"
    assert [s["text"] for s in data["sentences"]] == [
        "Flu can be serious.", "The vaccine is free.", "Ask your GP."]
    assert [s["position"] for s in data["sentences"]] == [1, 2, 3]
    languages = {lang["language"]: lang for lang in data["languages"]}
    assert set(languages) == {"ur", "pa-Guru", "syl"}
    assert languages["ur"]["label"] == "اردو / Urdu"
    assert languages["syl"]["language_name"] == "ꠍꠤꠟꠐꠤ / Sylheti"
    assert data["formats"] == ["landscape", "portrait"]
    assert data["deadline"].startswith("2099-12-31T23:59:59")
    assert data["brand_background"] == "#112233"
    logo = staff.get(data["logo_url"])
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(logo.content)).size == (40, 20)
    page = staff.get(campaign_url)
    assert page.status_code == 200
    assert "Flu can be serious." in page.text and "اردو / Urdu" in page.text


def test_form_validation_messages_name_each_problem(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    bad = {**CAMPAIGN_FORM, "title": "", "sentences": "  \n ", "languages": "ur\nen_GB\nqqq",
           "formats": [], "brand_accent": "red", "deadline": "2001-01-01"}
    response = staff.form("/campaigns/new", bad)
    assert response.status_code == 422
    text = response.text
    assert "Please correct the following" in text
    assert "this cannot be empty" in text  # title
    assert "at least one sentence" in text
    assert "&#39;en_GB&#39; is not a language code" in text
    assert "&#39;qqq&#39; is not a language Chorus knows by name" in text
    assert "choose at least one format" in text
    assert 'aria-invalid="true"' in text
    assert staff.get("/api/campaigns").json() == []  # nothing stored


def test_deadline_in_the_past_and_bad_colour_are_refused(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    response = staff.form("/campaigns/new", {**CAMPAIGN_FORM, "deadline": "2001-01-01"})
    assert response.status_code == 422 and "the deadline has already passed" in response.text
    response = staff.api("POST", "/api/campaigns", json={**CAMPAIGN_JSON, "brand_text": "white"})
    assert response.status_code == 422
    assert "'white' is not a colour; use #RRGGBB" in response.json()["detail"]
    response = staff.api("POST", "/api/campaigns",
                         json={**CAMPAIGN_JSON, "sentences": ["x" * 301]})
    assert response.status_code == 422 and "keep each under 300" in response.json()["detail"]
    response = staff.api("POST", "/api/campaigns", json={
        **CAMPAIGN_JSON, "languages": [{"language": "ur"}, {"language": "ur"}]})
    assert response.status_code == 422 and "listed twice" in response.json()["detail"]
    assert staff.get("/api/campaigns").json() == []


def test_logo_must_be_a_real_png_or_jpeg(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = staff.form("/campaigns/new", CAMPAIGN_FORM,
                          files={"logo": ("logo.svg", svg, "image/svg+xml")})
    assert response.status_code == 422
    assert "the logo is not a PNG or JPEG image" in response.text
    assert staff.get("/api/campaigns").json() == []
    campaign = create_campaign(staff)
    response = staff.api("PUT", f"/api/campaigns/{campaign['id']}/logo",
                         files={"file": ("x.png", b"not an image", "image/png")})
    assert response.status_code == 422


def test_edit_keeps_sentence_ids_and_resets_changed_translations(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    campaign = create_campaign(staff)
    cid = campaign["id"]
    first, second, _third = (s["id"] for s in campaign["sentences"])
    response = staff.api("PUT", f"/api/campaigns/{cid}/translations/ur", json={"translations": [
        {"sentence_id": first, "text": "فلو سنگین ہو سکتا ہے۔", "status": "approved"},
        {"sentence_id": second, "text": "ویکسین مفت ہے۔", "status": "approved"}]})
    assert response.status_code == 200
    edit = staff.get(f"/campaigns/{cid}/edit")
    assert edit.status_code == 200 and "The vaccine is free." in edit.text
    form = {**CAMPAIGN_FORM, "title": "Winter vaccines 2",
            "sentences": "Flu can be serious.\nThe vaccine is free for you.",
            "languages": "ur\nbn"}
    response = staff.form(f"/campaigns/{cid}/edit", form)
    assert response.status_code == 303, response.text
    data = staff.get(f"/api/campaigns/{cid}").json()
    assert data["title"] == "Winter vaccines 2"
    assert [s["id"] for s in data["sentences"]] == [first, second]
    assert [lang["language"] for lang in data["languages"]] == ["bn", "ur"]
    rows = staff.get(f"/api/campaigns/{cid}/translations/ur").json()["translations"]
    assert [r["status"] for r in rows] == ["approved", "draft"]  # changed sentence → draft
    assert staff.get(f"/api/campaigns/{cid}/translations/pa-Guru").status_code == 404


def test_api_crud_round_trip(env):
    staff = env.signed_in("ann@leeds.gov.uk", "admin")
    campaign = create_campaign(staff, formats=["square", "square", "portrait"])
    assert campaign["formats"] == ["square", "portrait"]
    listed = staff.get("/api/campaigns").json()
    assert [c["id"] for c in listed] == [campaign["id"]]
    body = {**CAMPAIGN_JSON, "title": "Renamed", "intro_text": "  ", "outro_text": "Thanks"}
    updated = staff.api("PUT", f"/api/campaigns/{campaign['id']}", json=body).json()
    assert updated["title"] == "Renamed" and updated["intro_text"] is None
    assert updated["outro_text"] == "Thanks"
    assert staff.get("/campaigns").status_code == 200
    assert staff.api("DELETE", f"/api/campaigns/{campaign['id']}").status_code == 204
    assert staff.get("/api/campaigns").json() == []


def test_translation_form_saves_and_approves(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    campaign = create_campaign(staff)
    cid = campaign["id"]
    sentences = campaign["sentences"]
    page = staff.get(f"/campaigns/{cid}/translations/ur")
    assert page.status_code == 200 and 'lang="ur"' in page.text
    response = staff.form(f"/campaigns/{cid}/translations/ur", {
        f"text-{sentences[0]['id']}": "فلو سنگین ہو سکتا ہے۔",
        f"approved-{sentences[0]['id']}": "1",
        f"text-{sentences[1]['id']}": "ویکسین مفت ہے۔",
        f"text-{sentences[2]['id']}": "",
    })
    assert response.status_code == 200 and "Saved (2 changed)." in response.text
    rows = staff.get(f"/api/campaigns/{cid}/translations/ur").json()["translations"]
    assert [(r["text"], r["status"]) for r in rows] == [
        ("فلو سنگین ہو سکتا ہے۔", "approved"), ("ویکسین مفت ہے۔", "draft"), ("", "missing")]
    bad = staff.api("PUT", f"/api/campaigns/{cid}/translations/ur", json={
        "translations": [{"sentence_id": "not-a-sentence", "text": "x"}]})
    assert bad.status_code == 422
