"""Security headers on every answer (500s included) and refusal of cross-site writes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fixtures.staff import CAMPAIGN_JSON, PASSWORD, csrf_from

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options",
                    "referrer-policy")


def _boom() -> None:
    raise RuntimeError("secret internal detail /srv/chorus/var")


def test_a_server_error_carries_the_security_headers_and_no_traceback(env):
    env.app.add_api_route("/api/test-boom", _boom, methods=["GET"])
    env.app.add_api_route("/test-boom", _boom, methods=["GET"])
    client = TestClient(env.app, raise_server_exceptions=False)
    for path, kind in (("/api/test-boom", "application/json"), ("/test-boom", "text/html")):
        response = client.get(path)
        assert response.status_code == 500
        assert kind in response.headers["content-type"]
        for name in SECURITY_HEADERS:
            assert name in response.headers, (path, name)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "secret internal detail" not in response.text and "Traceback" not in response.text
        assert "Something went wrong on our side" in response.text


def test_writes_from_another_site_are_refused(env):
    staff = env.signed_in("ann@leeds.gov.uk", "admin")
    evil = {"Origin": "https://evil.example"}
    refused = staff.api("POST", "/api/campaigns", json=CAMPAIGN_JSON, headers=evil)
    assert refused.status_code == 403
    assert refused.json()["code"] == "cross_site"
    assert "another website" in refused.json()["detail"]
    assert staff.get("/api/campaigns").json() == []
    by_referer = staff.api("POST", "/api/campaigns", json=CAMPAIGN_JSON,
                           headers={"Referer": "https://evil.example/page"})
    assert by_referer.status_code == 403
    fetch_metadata = staff.api("POST", "/api/campaigns", json=CAMPAIGN_JSON,
                               headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"})
    assert fetch_metadata.status_code == 403
    sibling = staff.api("POST", "/api/campaigns", json=CAMPAIGN_JSON,
                        headers={"Sec-Fetch-Site": "same-site"})
    assert sibling.status_code == 403
    # a page: the refusal is a page too, with the headers
    page = staff.form("/logout", headers=evil)
    assert page.status_code == 403 and "another website" in page.text
    assert "content-security-policy" in page.headers
    # a look is no change: GET from anywhere is answered
    assert staff.get("/api/campaigns", headers=evil).status_code == 200


def test_same_origin_and_header_less_writes_work(env):
    staff = env.signed_in("ann@leeds.gov.uk", "admin")
    same = staff.api("POST", "/api/campaigns", json=CAMPAIGN_JSON,
                     headers={"Origin": "http://testserver"})
    assert same.status_code == 201, same.text
    by_referer = staff.api("POST", "/api/campaigns", json=CAMPAIGN_JSON,
                           headers={"Referer": "http://testserver/campaigns/new"})
    assert by_referer.status_code == 201
    assert staff.api("POST", "/api/campaigns", json=CAMPAIGN_JSON).status_code == 201
    # A form posted from a no-referrer page (the leader's link pages) says Origin: null.
    assert staff.api("POST", "/api/campaigns", json=CAMPAIGN_JSON,
                     headers={"Origin": "null"}).status_code == 201
    assert staff.api("POST", "/api/campaigns", json=CAMPAIGN_JSON,
                     headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}
                     ).status_code == 201
    # tus creation from the app's own page (its Origin) reaches the upload server
    tus = staff.api("POST", "/uploads/", headers={"Origin": "http://testserver",
                                                "Tus-Resumable": "1.0.0", "Upload-Length": "10"})
    assert tus.status_code != 403, tus.text  # refused for its missing metadata, not its origin
    tus_evil = staff.api("POST", "/uploads/", headers={"Origin": "https://evil.example",
                                                     "Tus-Resumable": "1.0.0",
                                                     "Upload-Length": "10"})
    assert tus_evil.status_code == 403 and tus_evil.json()["code"] == "cross_site"


def test_sign_in_from_another_site_is_refused(env):
    env.user("ann@leeds.gov.uk")
    client = env.client()
    token = csrf_from(client.get("/login").text)
    form = {"email": "ann@leeds.gov.uk", "password": PASSWORD, "csrf_token": token}
    refused = client.post("/login", data=form, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert client.post("/login", data=form,
                       headers={"Origin": "http://testserver"}).status_code == 303
