# ruff: noqa: F811  (pytest fixtures imported by name)
"""The whole staff flow, on SQLite and on PostgreSQL: sign in, campaign, translations
(typed and .po), leaders, invite links, board, revoke, sign out."""

from __future__ import annotations

import io

from babel.messages.pofile import read_po, write_po

from service.db import unit_of_work
from service.leaders.repository import find_invite_by_token
from service.leaders.service import is_usable
from tests.fixtures.staff import (  # noqa: F401
    CAMPAIGN_FORM,
    any_env,
    create_leader,
    fast_hashing,
)


def test_staff_flow(any_env):
    env = any_env
    admin = env.signed_in("ann@leeds.gov.uk", "admin", "Leeds Council")
    other = env.signed_in("bob@bradford.gov.uk", "admin", "Bradford Council")

    # campaign through the form
    created = admin.form("/campaigns/new", CAMPAIGN_FORM)
    assert created.status_code == 303, created.text
    cid = created.headers["location"].rsplit("/", 1)[1]
    campaign = admin.get(f"/api/campaigns/{cid}").json()
    assert len(campaign["sentences"]) == 3
    assert campaign["deadline"].startswith("2099-12-31T23:59:59")

    # Urdu typed in, Punjabi through a .po file
    sentences = campaign["sentences"]
    saved = admin.api("PUT", f"/api/campaigns/{cid}/translations/ur", json={"translations": [
        {"sentence_id": s["id"], "text": f"اردو {s['position']}", "status": "approved"}
        for s in sentences]})
    assert saved.status_code == 200
    catalog = read_po(io.BytesIO(admin.get(f"/api/campaigns/{cid}/translations/pa-Guru/po")
                                 .content))
    for message in catalog:
        if message.id:
            message.string = f"ਪੰਜਾਬੀ {message.id}"
    buffer = io.BytesIO()
    write_po(buffer, catalog)
    imported = admin.api("POST", f"/api/campaigns/{cid}/translations/pa-Guru/po?approve=true",
                         files={"file": ("pa.po", buffer.getvalue(), "text/plain")})
    assert imported.status_code == 200 and imported.json()["updated"] == 3
    broken = admin.api("POST", f"/api/campaigns/{cid}/translations/pa-Guru/po",
                       files={"file": ("pa.po", b"\xff\xfe broken", "text/plain")})
    assert broken.status_code == 422

    # leaders and links
    ahmed = create_leader(admin, "Imam Ahmed", "ur")
    harpreet = create_leader(admin, "Harpreet Kaur", "pa-Guru")
    links = {}
    for leader in (ahmed, harpreet):
        response = admin.api("POST", f"/api/campaigns/{cid}/invites",
                             json={"leader_id": leader["id"]})
        assert response.status_code == 201
        links[leader["name"]] = response.json()
    token = links["Imam Ahmed"]["link"].rsplit("/", 1)[1]
    with unit_of_work(env.settings) as db:
        assert is_usable(find_invite_by_token(db, token))

    # the board
    board = admin.get(f"/api/campaigns/{cid}/board").json()
    rows = {row["language"]: row for row in board["languages"]}
    assert rows["ur"]["invited"] == 1 and rows["ur"]["translation_ready"]
    assert rows["pa-Guru"]["translation_ready"]
    assert board["uncovered"] == ["syl"]
    assert "Harpreet Kaur" in admin.get(f"/campaigns/{cid}/board").text

    # the other organisation sees none of it
    assert other.get(f"/api/campaigns/{cid}").status_code == 404
    assert other.get(f"/api/campaigns/{cid}/board").status_code == 404
    assert other.get("/api/leaders").json() == []

    # revoke, and the link is dead
    revoked = admin.api("POST", f"/api/campaigns/{cid}/invites/"
                                f"{links['Imam Ahmed']['id']}/revoke")
    assert revoked.json()["state"] == "revoked"
    with unit_of_work(env.settings) as db:
        assert not is_usable(find_invite_by_token(db, token))
    board = admin.get(f"/api/campaigns/{cid}/board").json()
    assert sorted(board["uncovered"]) == ["syl", "ur"]

    # sign out
    assert admin.form("/logout").status_code == 303
    assert admin.get("/api/me").status_code == 401
