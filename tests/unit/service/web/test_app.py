"""The app shell: OpenAPI, the API docs page, errors, static files, CSP-safe templates."""

from __future__ import annotations

import re

from service.web.templating import STATIC_DIR, TEMPLATES_DIR


def test_openapi_lists_the_staff_api(env):
    client = env.client()
    schema = client.get("/openapi.json").json()
    for path in ("/api/campaigns", "/api/campaigns/{campaign_id}", "/api/leaders",
                 "/api/campaigns/{campaign_id}/invites", "/api/campaigns/{campaign_id}/board",
                 "/api/campaigns/{campaign_id}/translations/{language}/po", "/api/me"):
        assert path in schema["paths"], path
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "/api/campaigns/{campaign_id}/board" in docs.text and "/openapi.json" in docs.text


def test_errors_are_pages_for_people_and_json_for_the_api(env):
    client = env.client()
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "<h1" in page.text and "There is nothing here" in page.text
    api = client.get("/api/no/such/thing")
    assert api.status_code == 404 and api.json()["code"] == "http_404"


def test_static_files_are_served_and_cacheable(env):
    response = env.client().get("/static/css/app.css")
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]
    assert response.headers.get("cache-control") != "no-store"
    assert env.client().get("/static/js/app.js").status_code == 200


def test_templates_have_no_inline_scripts_styles_or_handlers():
    own = [p for p in TEMPLATES_DIR.rglob("*.html") if "leader" not in p.parts]
    assert own
    for path in own:
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\sstyle=", text), path
        assert not re.search(r"\son[a-z]+=", text), path
        assert "<style" not in text and "javascript:" not in text, path
    assert (STATIC_DIR / "js" / "app.js").exists()


def test_base_template_is_accessible_and_works_on_a_phone(env):
    html = env.client().get("/login").text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<html lang="en" dir="ltr">' in html
    assert 'class="skip-link" href="#main"' in html and '<main id="main"' in html
    assert '<label for="email">' in html and '<label for="password">' in html
