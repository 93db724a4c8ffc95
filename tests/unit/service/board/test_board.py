"""The board: per language who is invited, opened, recorded, approved; who is missing."""

from __future__ import annotations

from service.db import unit_of_work
from service.models import Clip, Invite, new_id, utcnow
from tests.fixtures.staff import create_campaign, create_leader


def _clip(db, campaign_id, language, status, leader_id=None, invite_id=None, speaker=""):
    db.add(Clip(id=new_id(), campaign_id=campaign_id, language=language, status=status,
                leader_id=leader_id, invite_id=invite_id, original_key=f"originals/{new_id()}",
                original_sha256="0" * 64, speaker_name=speaker,
                source="recorded" if invite_id else "staff_upload"))


def test_board_counts_per_language_and_lists_languages_with_nobody(env):
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    campaign = create_campaign(staff)  # ur, pa-Guru, syl
    cid = campaign["id"]
    sentences = campaign["sentences"]
    staff.api("PUT", f"/api/campaigns/{cid}/translations/ur", json={"translations": [
        {"sentence_id": s["id"], "text": f"ur {i}", "status": "approved"}
        for i, s in enumerate(sentences)]})
    ahmed = create_leader(staff, "Imam Ahmed", "ur")
    bilal = create_leader(staff, "Bilal", "ur")
    harpreet = create_leader(staff, "Harpreet", "pa-Guru")
    invites = {}
    for leader in (ahmed, bilal, harpreet):
        invites[leader["name"]] = staff.api("POST", f"/api/campaigns/{cid}/invites",
                                            json={"leader_id": leader["id"]}).json()["id"]
    staff.api("POST", f"/api/campaigns/{cid}/invites/{invites['Bilal']}/revoke")
    with unit_of_work(env.settings) as db:
        db.get(Invite, invites["Imam Ahmed"]).opened_at = utcnow()
        _clip(db, cid, "ur", "rejected", ahmed["id"], invites["Imam Ahmed"])
        _clip(db, cid, "ur", "approved", ahmed["id"], invites["Imam Ahmed"])

    board = staff.get(f"/api/campaigns/{cid}/board").json()
    rows = {row["language"]: row for row in board["languages"]}
    assert set(rows) == {"ur", "pa-Guru", "syl"}
    ur = rows["ur"]
    assert (ur["invited"], ur["opened"], ur["recorded"], ur["approved"]) == (1, 1, 1, 1)
    assert ur["translation_ready"] and ur["translations_approved"] == 3
    leaders = {row["name"]: row for row in ur["leaders"]}
    assert leaders["Imam Ahmed"]["invite_state"] == "opened"
    assert (leaders["Imam Ahmed"]["clips"], leaders["Imam Ahmed"]["rejected"]) == (2, 1)
    assert leaders["Bilal"]["invite_state"] == "revoked"
    pa = rows["pa-Guru"]
    assert (pa["invited"], pa["opened"], pa["recorded"], pa["nobody"]) == (1, 0, 0, False)
    assert not pa["translation_ready"]
    assert rows["syl"]["nobody"] and board["uncovered"] == ["syl"]

    # a staff upload in Sylheti covers it
    with unit_of_work(env.settings) as db:
        _clip(db, cid, "syl", "ready", speaker="Councillor Miah")
    board = staff.get(f"/api/campaigns/{cid}/board").json()
    assert board["uncovered"] == []
    syl = next(r for r in board["languages"] if r["language"] == "syl")
    assert syl["recorded"] == 1 and syl["leaders"][0]["name"] == "Councillor Miah"

    page = staff.get(f"/campaigns/{cid}/board")
    assert page.status_code == 200
    assert "Imam Ahmed" in page.text and "Harpreet" in page.text
    assert "ꠍꠤꠟꠐꠤ / Sylheti" in page.text and "اردو / Urdu" in page.text


def test_board_page_warns_about_languages_with_nobody(env):
    staff = env.signed_in("viewer@leeds.gov.uk", "admin")
    cid = create_campaign(staff)["id"]
    page = staff.get(f"/campaigns/{cid}/board")
    assert 'id="uncovered"' in page.text and "Nobody yet for:" in page.text
