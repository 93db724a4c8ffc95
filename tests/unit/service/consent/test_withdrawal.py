"""Withdrawal from the person's own link: two steps, on live, revoked, expired, re-issued links.

Before withdraw-only keys, a revoked or expired link answered 410 to the withdrawal too, so
the page's promise ("withdraw at any time") could not be kept.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from service.db import unit_of_work
from service.models import Clip, Compile, CompileClip, Consent, Invite, utcnow
from tests.fixtures.staff import create_campaign, create_leader

FORM_RE = re.compile(r'<form method="post" action="(/i/[^"]+/withdraw)"')


def _setup(env):
    staff = env.signed_in("ann@leeds.gov.uk", "admin")
    cid = create_campaign(staff)["id"]
    lid = create_leader(staff)["id"]
    created = staff.api("POST", f"/api/campaigns/{cid}/invites", json={"leader_id": lid}).json()
    token = created["link"].rsplit("/", 1)[1]
    leader = env.client()
    answer = leader.post(f"/i/{token}/consent", data={
        "agree_recording": "yes", "agree_shows_role": "yes", "channels": ["whatsapp", "youtube"]})
    assert answer.status_code == 303, answer.text
    return staff, cid, created, token, leader


def _withdraw_in_two_steps(leader, token: str, status: int) -> None:
    """Step 1: open the link. Step 2: press the button on that page."""
    page = leader.get(f"/i/{token}")
    assert page.status_code == status
    action = FORM_RE.search(page.text)
    assert action, "the page the link opens has no withdrawal button"
    assert leader.post(action.group(1), data={"lang": "en"}).status_code == 303


def _consents(env) -> list[Consent]:
    with unit_of_work(env.settings) as db:
        rows = list(db.scalars(select(Consent)))
        db.expunge_all()
        return rows


def test_live_link_withdraws_in_two_steps(env) -> None:
    _staff, _cid, _created, token, leader = _setup(env)
    _withdraw_in_two_steps(leader, token, 200)
    assert all(c.withdrawn_at is not None for c in _consents(env))


def test_revoked_link_still_withdraws(any_env) -> None:
    env = any_env
    staff, cid, created, token, leader = _setup(env)
    staff.api("POST", f"/api/campaigns/{cid}/invites/{created['id']}/revoke")
    assert leader.get(f"/i/{token}/record").status_code == 410  # no more recording
    page = leader.get(f"/i/{token}")
    assert 'data-code="invite.revoked"' in page.text
    _withdraw_in_two_steps(leader, token, 410)
    assert all(c.withdrawn_at is not None for c in _consents(env))
    assert "You have withdrawn your consent" in leader.get(f"/i/{token}?lang=en&withdrawn=1").text


def test_expired_link_still_withdraws(env) -> None:
    _staff, _cid, created, token, leader = _setup(env)
    with unit_of_work(env.settings) as db:
        db.get(Invite, created["id"]).expires_at = utcnow() - timedelta(days=400)
    _withdraw_in_two_steps(leader, token, 410)
    assert all(c.withdrawn_at is not None for c in _consents(env))


def test_reissued_link_old_token_still_withdraws(env) -> None:
    staff, cid, created, token, leader = _setup(env)
    again = staff.api("POST", f"/api/campaigns/{cid}/invites",
                      json={"leader_id": created["leader_id"]}).json()
    assert again["link"].rsplit("/", 1)[1] != token
    assert leader.get(f"/i/{token}/record").status_code == 404  # the old link cannot record
    assert leader.post(f"/i/{token}/withdraw", data={"lang": "en"}).status_code == 303
    assert all(c.withdrawn_at is not None for c in _consents(env))


def test_withdrawal_keys_lapse_and_unknown_tokens_are_refused(env) -> None:
    _staff, _cid, created, token, leader = _setup(env)
    assert leader.post("/i/not-a-real-token/withdraw").status_code == 404
    from service.models import WithdrawalKey

    with unit_of_work(env.settings) as db:
        db.get(Invite, created["id"]).revoked_at = utcnow()
        for key in db.scalars(select(WithdrawalKey)):
            key.expires_at = utcnow() - timedelta(seconds=1)
    assert leader.post(f"/i/{token}/withdraw").status_code == 404
    assert all(c.withdrawn_at is None for c in _consents(env))


def test_withdrawal_stops_work_in_flight_and_withdraws_finished_compiles(env) -> None:
    from service.renders import state
    from service.renders.plan import load_plan

    _staff, cid, created, token, leader = _setup(env)
    with unit_of_work(env.settings) as db:
        invite = db.get(Invite, created["id"])
        theirs = Clip(campaign_id=cid, leader_id=invite.leader_id, invite_id=invite.id,
                      language="ur", original_key="clips/x/original.mp4", original_sha256="0" * 64,
                      status="approved", sentences=["a", "b", "c"])
        other = Clip(campaign_id=cid, language="ur", original_key="clips/y/original.mp4",
                     original_sha256="1" * 64, status="approved", sentences=["a", "b", "c"])
        db.add_all([theirs, other])
        db.flush()
        db.add(Consent(clip_id=other.id, campaign_id=cid, wording_version="staff-1",
                       wording_language="en", channels=["all"], method="signed_form"))
        db.query(Consent).filter_by(invite_id=invite.id).update({"clip_id": theirs.id})
        running = Compile(campaign_id=cid, formats=["landscape"], status="running")
        finished = Compile(campaign_id=cid, formats=["landscape"], status="done",
                           outputs=[{"name": "video-landscape.mp4", "key": "k", "size": 1,
                                     "content_type": "video/mp4"}])
        db.add_all([running, finished])
        db.flush()
        for comp in (running, finished):
            db.add_all([CompileClip(compile_id=comp.id, clip_id=theirs.id, status="running"),
                        CompileClip(compile_id=comp.id, clip_id=other.id, status="running")])
        ids = (running.id, finished.id, theirs.id, other.id)
    assert leader.post(f"/i/{token}/withdraw", data={"lang": "en"}).status_code == 303
    running_id, finished_id, theirs_id, other_id = ids
    with unit_of_work(env.settings) as db:
        plan = load_plan(db, running_id)  # what the next stage sees
        state.leave_out(db, plan)
        assert [c.clip_id for c in plan.clips] == [other_id]
        cc = db.scalar(select(CompileClip).where(CompileClip.compile_id == running_id,
                                                 CompileClip.clip_id == theirs_id))
        assert cc.status == "skipped"
        done = db.get(Compile, finished_id)
        assert done.withdrawn_reason == "consent_withdrawn" and done.outputs == []
