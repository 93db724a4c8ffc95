"""Leaders and invite links: hash-only storage, expiry, revoke, re-issue, QR, pages."""

from __future__ import annotations

import base64
from datetime import timedelta
from xml.etree import ElementTree

from sqlalchemy import select, text

from service.db import unit_of_work
from service.leaders.repository import find_invite_by_token
from service.leaders.service import invite_state, is_usable
from service.models import Invite, utcnow
from service.security import hash_token
from tests.fixtures.staff import create_campaign, create_leader


def _invite(staff, cid, lid, **extra):
    response = staff.api("POST", f"/api/campaigns/{cid}/invites", json={"leader_id": lid, **extra})
    return response


def test_invite_link_is_random_shown_once_and_only_its_hash_is_stored(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    campaign = create_campaign(staff)
    leader = create_leader(staff)
    response = _invite(staff, campaign["id"], leader["id"])
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    created = response.json()
    assert created["link"].startswith("http://testserver/i/")
    token = created["link"].rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert created["expires_at"].startswith("2099-12-31T23:59:59")  # = campaign deadline
    assert created["language"] == "ur" and created["state"] == "active"
    with unit_of_work(env.settings) as db:
        invite = db.scalars(select(Invite)).one()
        assert invite.token_hash == hash_token(token)
        dump = " ".join(str(v) for row in db.execute(text("SELECT * FROM invites")) for v in row)
        assert token not in dump
        assert find_invite_by_token(db, token).id == invite.id
    # listing never shows the link again
    listed = staff.get(f"/api/campaigns/{campaign['id']}/invites").json()
    assert "link" not in listed[0] and token not in str(listed)
    # the page list does not show it either
    assert token not in staff.get(f"/campaigns/{campaign['id']}/invites").text


def test_two_links_differ(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    cid = create_campaign(staff)["id"]
    a = _invite(staff, cid, create_leader(staff, "A")["id"]).json()["link"]
    b = _invite(staff, cid, create_leader(staff, "B")["id"]).json()["link"]
    assert a != b


def test_revoke_stops_the_link_at_once(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    cid = create_campaign(staff)["id"]
    created = _invite(staff, cid, create_leader(staff)["id"]).json()
    token = created["link"].rsplit("/", 1)[1]
    response = staff.api("POST", f"/api/campaigns/{cid}/invites/{created['id']}/revoke")
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    with unit_of_work(env.settings) as db:
        invite = find_invite_by_token(db, token)
        assert invite.revoked_at is not None
        assert not is_usable(invite)


def test_reissue_replaces_the_old_link(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    cid = create_campaign(staff)["id"]
    leader = create_leader(staff)
    first = _invite(staff, cid, leader["id"]).json()
    staff.api("POST", f"/api/campaigns/{cid}/invites/{first['id']}/revoke")
    second = _invite(staff, cid, leader["id"]).json()
    assert second["id"] == first["id"] and second["state"] == "active"
    old, new = (x["link"].rsplit("/", 1)[1] for x in (first, second))
    with unit_of_work(env.settings) as db:
        assert find_invite_by_token(db, old) is None
        assert find_invite_by_token(db, new).id == first["id"]


def test_expiry_default_explicit_past_and_expired_state(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    cid = create_campaign(staff, deadline=None)["id"]
    leader = create_leader(staff)
    past = (utcnow() - timedelta(days=1)).isoformat()
    response = _invite(staff, cid, leader["id"], expires_at=past)
    assert response.status_code == 422 and "in the past" in response.json()["detail"]
    created = _invite(staff, cid, leader["id"]).json()  # no deadline: 30 days
    with unit_of_work(env.settings) as db:
        invite = db.get(Invite, created["id"])
        assert timedelta(days=29) < invite.expires_at - utcnow() <= timedelta(days=30)
        invite.expires_at = utcnow() - timedelta(seconds=1)
    with unit_of_work(env.settings) as db:
        invite = db.get(Invite, created["id"])
        assert invite_state(invite) == "expired" and not is_usable(invite)
    assert staff.get(f"/api/campaigns/{cid}/invites").json()[0]["state"] == "expired"


def test_leader_language_must_be_a_campaign_language(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    cid = create_campaign(staff)["id"]
    polish = create_leader(staff, "Ksiądz Jan", "pl")
    response = _invite(staff, cid, polish["id"])
    assert response.status_code == 422
    assert "not a target language of this campaign" in response.json()["detail"]


def test_invite_page_shows_link_copy_button_and_qr_once(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    cid = create_campaign(staff)["id"]
    leader = create_leader(staff)
    page = staff.get(f"/campaigns/{cid}/invites")
    assert page.status_code == 200 and "Imam Ahmed" in page.text
    response = staff.form(f"/campaigns/{cid}/invites", {"leader_id": leader["id"]})
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    html = response.text
    assert 'data-copy-target="invite-link"' in html
    start = html.index('id="invite-link"')
    link = html[start:].split('value="', 1)[1].split('"', 1)[0]
    assert link.startswith("http://testserver/i/")
    qr_url = html.split('<img class="qr" src="', 1)[1].split('"', 1)[0]
    # Inline: the token never travels in a query string (access logs, proxies, history).
    assert qr_url.startswith("data:image/svg+xml;base64,")
    assert "img-src 'self' data:" in response.headers["content-security-policy"]
    svg = ElementTree.fromstring(base64.b64decode(qr_url.split(",", 1)[1]))
    assert svg.tag.endswith("svg") and svg.find(".//{http://www.w3.org/2000/svg}path") is not None
    assert f'href="{qr_url}" download="invite-qr.svg"' in html
    invite_id = staff.get(f"/api/campaigns/{cid}/invites").json()[0]["id"]
    reissued = staff.form(f"/campaigns/{cid}/invites/{invite_id}/reissue")
    assert reissued.status_code == 201
    revoked = staff.form(f"/campaigns/{cid}/invites/{invite_id}/revoke")
    assert revoked.status_code == 200 and "no longer works" in revoked.text


def test_leader_pages_create_edit_delete_with_validation(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    bad = staff.form("/leaders/new", {"name": "", "language": "english please"})
    assert bad.status_code == 422
    assert "this cannot be empty" in bad.text and "is not a language code" in bad.text
    created = staff.form("/leaders/new", {"name": "Pastor Ruth", "role": "Pastor",
                                          "community": "Chapeltown", "language": "so"})
    assert created.status_code == 303
    leader = staff.get("/api/leaders").json()[0]
    assert leader["language_label"] == "Soomaali / Somali"
    assert staff.get("/leaders").status_code == 200
    edited = staff.form(f"/leaders/{leader['id']}/edit", {"name": "Pastor Ruth A.",
                                                          "language": "so"})
    assert edited.status_code == 303
    assert staff.get(f"/api/leaders/{leader['id']}").json()["name"] == "Pastor Ruth A."
    assert staff.form(f"/leaders/{leader['id']}/delete").status_code == 303
    assert staff.get("/api/leaders").json() == []


def test_deleting_a_leader_or_campaign_removes_their_links_and_keeps_no_recording(env):
    from service.models import Clip, new_id

    staff = env.signed_in("ann@leeds.gov.uk", "admin")
    cid = create_campaign(staff)["id"]
    leader = create_leader(staff)
    invite = _invite(staff, cid, leader["id"]).json()
    with unit_of_work(env.settings) as db:
        db.add(Clip(id=new_id(), campaign_id=cid, leader_id=leader["id"], invite_id=invite["id"],
                    language="ur", original_key="originals/x", original_sha256="0" * 64))
    # a person with a recording is not just "deleted" (their face would stay): an admin erases
    assert staff.api("DELETE", f"/api/leaders/{leader['id']}").status_code == 409
    assert staff.api("POST", f"/api/leaders/{leader['id']}/erase").status_code == 200
    with unit_of_work(env.settings) as db:
        assert db.scalars(select(Invite)).all() == []
        assert db.scalars(select(Clip)).all() == []
    other = create_leader(staff, "Bilal")
    _invite(staff, cid, other["id"])
    staff.api("PUT", f"/api/campaigns/{cid}/translations/ur", json={"translations": [
        {"sentence_id": s["id"], "text": "x"}
        for s in staff.get(f"/api/campaigns/{cid}").json()["sentences"]]})
    assert staff.api("DELETE", f"/api/campaigns/{cid}").status_code == 204
    with unit_of_work(env.settings) as db:
        for table in ("invites", "clips", "translations", "sentences", "campaign_languages"):
            assert db.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table


def test_links_follow_a_moved_deadline_unless_given_their_own_expiry(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    campaign = create_campaign(staff)
    cid = campaign["id"]
    follows = _invite(staff, cid, create_leader(staff, "A")["id"]).json()
    own = _invite(staff, cid, create_leader(staff, "B")["id"],
                  expires_at="2098-01-01T00:00:00Z").json()
    body = {**{k: campaign[k] for k in ("title", "language", "formats")},
            "sentences": [s["text"] for s in campaign["sentences"]],
            "languages": [{"language": lang["language"], "language_name": lang["language_name"]}
                          for lang in campaign["languages"]],
            "deadline": "2099-06-30T12:00:00Z"}
    assert staff.api("PUT", f"/api/campaigns/{cid}", json=body).status_code == 200
    listed = {i["id"]: i for i in staff.get(f"/api/campaigns/{cid}/invites").json()}
    assert listed[follows["id"]]["expires_at"].startswith("2099-06-30T12:00:00")
    assert listed[own["id"]]["expires_at"].startswith("2098-01-01T00:00:00")
