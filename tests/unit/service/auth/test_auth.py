"""Sign-in, sessions, CSRF, roles and organisation scoping on the staff side."""

from __future__ import annotations

from sqlalchemy import select

from service.db import unit_of_work
from service.models import StaffSession, User
from service.security import hash_token
from tests.fixtures.staff import (
    PASSWORD,
    create_campaign,
    create_leader,
    csrf_from,
    login,
    make_env,
)


def test_wrong_password_is_refused_and_no_session_is_made(env):
    env.user("ann@leeds.gov.uk")
    client = env.client()
    response = login(client, "ann@leeds.gov.uk", "not the password")
    assert response.status_code == 401
    assert "The email or password is not right." in response.text
    assert "chorus_session" not in client.cookies
    assert client.get("/api/me").status_code == 401
    with unit_of_work(env.settings) as db:
        assert db.scalars(select(StaffSession)).all() == []


def test_unknown_email_gets_the_same_answer(env):
    client = env.client()
    response = login(client, "nobody@leeds.gov.uk", PASSWORD)
    assert response.status_code == 401
    assert "The email or password is not right." in response.text


def test_sign_in_sets_an_httponly_cookie_and_stores_only_the_token_hash(env):
    env.user("ann@leeds.gov.uk")
    client = env.client()
    response = login(client, "ann@leeds.gov.uk", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/campaigns"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("chorus_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP (local development)
    token = client.cookies["chorus_session"]
    with unit_of_work(env.settings) as db:
        row = db.scalars(select(StaffSession)).one()
        assert row.id == hash_token(token) != token
        user = db.scalars(select(User)).one()
        assert user.password_hash.startswith("$argon2id$")
    assert client.get("/api/me").json()["email"] == "ann@leeds.gov.uk"


def test_https_public_url_uses_host_prefixed_secure_cookie(tmp_path, fast_hashing):
    https_env = make_env(tmp_path, public_url="https://chorus.example.org")
    https_env.user("ann@leeds.gov.uk")
    client = https_env.client()
    response = login(client, "ann@leeds.gov.uk", PASSWORD)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-chorus_session=")
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert "Strict-Transport-Security" in response.headers
    assert client.get("/api/me").status_code == 200


def test_logout_ends_the_session_even_for_a_copied_cookie(env):
    env.user("ann@leeds.gov.uk")
    client = env.client()
    login(client, "ann@leeds.gov.uk", PASSWORD)
    token = client.cookies["chorus_session"]
    page = client.get("/campaigns")
    assert page.status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    copy = env.client()
    copy.cookies.set("chorus_session", token)
    assert copy.get("/api/me").status_code == 401
    assert copy.get("/campaigns").headers["location"].startswith("/login?next=")


def test_form_post_without_csrf_is_403_with_a_clear_message(env):
    staff = env.signed_in("ann@leeds.gov.uk")
    response = staff.http.post("/campaigns/new", data={"title": "x", "sentences": "Hello."})
    assert response.status_code == 403
    assert "security token (CSRF) was missing or wrong" in response.text
    response = staff.http.post("/campaigns/new", data={"title": "x", "csrf_token": "forged"})
    assert response.status_code == 403
    # JSON API: the header is required too
    response = staff.http.post("/api/leaders", json={"name": "A", "language": "ur"})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_missing"
    # Logout is a change as well
    assert staff.http.post("/logout").status_code == 403
    assert staff.get("/api/me").status_code == 200
    # Nothing was created by the refused requests
    assert staff.get("/api/campaigns").json() == []
    assert staff.get("/api/leaders").json() == []


def test_login_form_needs_its_csrf_token(env):
    env.user("ann@leeds.gov.uk")
    client = env.client()
    response = client.post("/login", data={"email": "ann@leeds.gov.uk", "password": PASSWORD})
    assert response.status_code == 403
    assert "security token (CSRF)" in response.text


def test_login_redirect_stays_on_this_site(env):
    env.user("ann@leeds.gov.uk")
    client = env.client()
    page = client.get("/login?next=//evil.example.org/")
    response = client.post("/login", data={"email": "ann@leeds.gov.uk", "password": PASSWORD,
                                           "csrf_token": csrf_from(page.text),
                                           "next": "//evil.example.org/"})
    assert response.headers["location"] == "/campaigns"


def test_unauthenticated_pages_redirect_and_api_says_401(env):
    client = env.client()
    response = client.get("/campaigns/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/campaigns/new"
    response = client.get("/api/campaigns")
    assert response.status_code == 401
    assert response.json()["code"] == "not_signed_in"


def test_roles_viewer_reads_editor_writes_admin_deletes(env):
    admin = env.signed_in("admin@leeds.gov.uk", "admin")
    editor = env.signed_in("editor@leeds.gov.uk", "editor")
    viewer = env.signed_in("viewer@leeds.gov.uk", "viewer")
    campaign = create_campaign(editor)
    # viewer can read but not change
    assert viewer.get(f"/api/campaigns/{campaign['id']}").status_code == 200
    assert viewer.get(f"/campaigns/{campaign['id']}").status_code == 200
    denied = viewer.api("POST", "/api/leaders", json={"name": "A", "language": "ur"})
    assert denied.status_code == 403 and "editor role" in denied.json()["detail"]
    assert viewer.get("/campaigns/new").status_code == 403
    assert viewer.form("/campaigns/new", {"title": "x"}).status_code == 403
    assert viewer.api("PUT", f"/api/campaigns/{campaign['id']}/translations/ur",
                      json={"translations": []}).status_code == 403
    # editor cannot delete a campaign; admin can
    assert editor.api("DELETE", f"/api/campaigns/{campaign['id']}").status_code == 403
    assert admin.api("DELETE", f"/api/campaigns/{campaign['id']}").status_code == 204
    assert admin.get(f"/api/campaigns/{campaign['id']}").status_code == 404


def test_nobody_sees_another_organisations_data(env):
    leeds = env.signed_in("ann@leeds.gov.uk", "admin", "Leeds Council")
    bradford = env.signed_in("bob@bradford.gov.uk", "admin", "Bradford Council")
    campaign = create_campaign(leeds)
    leader = create_leader(leeds)
    invite = leeds.api("POST", f"/api/campaigns/{campaign['id']}/invites",
                       json={"leader_id": leader["id"]}).json()
    cid, lid, iid = campaign["id"], leader["id"], invite["id"]

    assert bradford.get("/api/campaigns").json() == []
    assert bradford.get("/api/leaders").json() == []
    for url in (f"/api/campaigns/{cid}", f"/campaigns/{cid}", f"/campaigns/{cid}/edit",
                f"/campaigns/{cid}/board", f"/api/campaigns/{cid}/board",
                f"/campaigns/{cid}/invites", f"/api/campaigns/{cid}/invites",
                f"/api/campaigns/{cid}/translations/ur",
                f"/campaigns/{cid}/translations/ur/export.po",
                f"/api/leaders/{lid}", f"/leaders/{lid}/edit"):
        assert bradford.get(url).status_code == 404, url
    # changes are refused as not found, and nothing changes
    assert bradford.api("PUT", f"/api/campaigns/{cid}",
                        json={"title": "Hijacked", "sentences": ["x"]}).status_code == 404
    assert bradford.api("DELETE", f"/api/campaigns/{cid}").status_code == 404
    assert bradford.api("POST", f"/api/campaigns/{cid}/invites/{iid}/revoke").status_code == 404
    assert bradford.form(f"/leaders/{lid}/delete").status_code == 404
    # using Leeds's leader in a Bradford campaign is refused too
    own = create_campaign(bradford)
    assert bradford.api("POST", f"/api/campaigns/{own['id']}/invites",
                        json={"leader_id": lid}).status_code == 404
    assert leeds.get(f"/api/campaigns/{cid}").json()["title"] == "Winter vaccines"
    assert leeds.get(f"/api/campaigns/{cid}/invites").json()[0]["state"] == "active"


def test_security_headers_on_pages(env):
    response = env.client().get("/login")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text and " style=" not in response.text


def test_expired_session_and_deactivated_user_are_signed_out(env):
    from datetime import timedelta

    from service.models import utcnow

    env.user("ann@leeds.gov.uk")
    client = env.client()
    login(client, "ann@leeds.gov.uk", PASSWORD)
    assert client.get("/api/me").status_code == 200
    with unit_of_work(env.settings) as db:
        db.scalars(select(StaffSession)).one().expires_at = utcnow() - timedelta(seconds=1)
    assert client.get("/api/me").status_code == 401
    login(client, "ann@leeds.gov.uk", PASSWORD)
    assert client.get("/api/me").status_code == 200
    with unit_of_work(env.settings) as db:
        assert len(db.scalars(select(StaffSession)).all()) == 1  # the expired one is gone
        db.scalars(select(User)).one().active = False
    assert client.get("/api/me").status_code == 401
    assert login(client, "ann@leeds.gov.uk", PASSWORD).status_code == 401


def test_admin_manages_staff_of_their_own_organisation_only(env):
    admin = env.signed_in("ann@leeds.gov.uk", "admin", "Leeds Council")
    editor = env.signed_in("ed@leeds.gov.uk", "editor", "Leeds Council")
    other = env.signed_in("bob@bradford.gov.uk", "admin", "Bradford Council")
    assert editor.get("/staff").status_code == 403
    assert editor.api("POST", "/api/users", json={
        "email": "x@leeds.gov.uk", "name": "X", "role": "admin", "password": PASSWORD,
    }).status_code == 403
    added = admin.api("POST", "/api/users", json={
        "email": "vi@leeds.gov.uk", "name": "Vi", "role": "viewer", "password": PASSWORD})
    assert added.status_code == 201 and added.json()["role"] == "viewer"
    short = admin.form("/staff", {"email": "s@leeds.gov.uk", "name": "S", "role": "viewer",
                                  "password": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.text
    emails = {u["email"] for u in admin.get("/api/users").json()}
    assert emails == {"ann@leeds.gov.uk", "ed@leeds.gov.uk", "vi@leeds.gov.uk"}
    editor_id = next(u["id"] for u in admin.get("/api/users").json()
                     if u["email"] == "ed@leeds.gov.uk")
    assert other.api("POST", f"/api/users/{editor_id}/deactivate").status_code == 404
    assert admin.form(f"/staff/{editor_id}/deactivate").status_code == 303
    assert editor.get("/api/me").status_code == 401  # their sessions ended at once
    me = admin.get("/api/me").json()["id"]
    assert admin.api("POST", f"/api/users/{me}/deactivate").status_code == 422
    assert "Staff" in admin.get("/staff").text
