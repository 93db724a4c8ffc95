"""Staff paths: channels on review, audit log and CSV, erasure and campaign deletion by HTTP."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from service.db import unit_of_work
from service.models import AuditEvent, Campaign, Clip, Consent, ErasureReport
from service.storage import get_store
from tests.fixtures.staff import create_campaign, create_leader


def _upload(staff, campaign_id: str, **extra):
    data = {"language": "ur", "speaker_name": "Imam Ahmed", "speaker_role": "Imam",
            "consent_method": "signed_form", "consent_date": "2024-03-01",
            "consent_note": "form kept", "csrf_token": staff.csrf, **extra}
    r = staff.http.post(f"/campaigns/{campaign_id}/clips/upload", data=data,
                        files=[("files", ("a.mp4", b"A" * 3000, "video/mp4"))],
                        headers={"Accept": "application/json"})
    assert r.status_code == 201, r.text
    return r.json()["clips"][0]


def _ready(env, clip_id: str, channels: list[str]) -> None:
    with unit_of_work(env.settings) as db:
        db.get(Clip, clip_id).status = "ready"
        db.query(Consent).filter_by(clip_id=clip_id).update({"channels": channels})


def test_review_shows_the_channels_and_where_the_clip_may_appear(env) -> None:
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    camp = create_campaign(staff, formats=["landscape", "portrait"])
    clip_id = _upload(staff, camp["id"])
    _ready(env, clip_id, ["whatsapp", "instagram", "tiktok"])
    page = staff.get(f"/clips/{clip_id}").text
    assert "WhatsApp" in page and "Instagram" in page and "TikTok" in page
    assert "video-landscape.mp4" in page and "left out: channel not agreed" in page
    assert page.count(">included<") == 3  # portrait video, both cuts
    assert "/erase" not in page  # editors cannot erase


def test_staff_actions_are_audited_and_exported_without_tokens_or_addresses(env) -> None:
    admin = env.signed_in("boss@leeds.gov.uk", "admin")
    camp = create_campaign(admin)
    clip_id = _upload(admin, camp["id"])
    _ready(env, clip_id, ["all"])
    assert admin.form(f"/clips/{clip_id}/review", {"action": "approve"}).status_code == 303
    assert admin.api("POST", f"/api/campaigns/{camp['id']}/compiles",
                     json={"formats": ["landscape"]}).status_code in (200, 201, 202)
    leader = create_leader(admin)
    invite = admin.api("POST", f"/api/campaigns/{camp['id']}/invites",
                       json={"leader_id": leader["id"]}).json()
    token = invite["link"].rsplit("/", 1)[1]
    admin.api("POST", f"/api/campaigns/{camp['id']}/invites/{invite['id']}/revoke")
    with unit_of_work(env.settings) as db:
        actions = [e.action for e in db.scalars(select(AuditEvent).order_by(
            AuditEvent.created_at))]
    assert actions == ["clip.upload", "clip.approve", "compile.create", "invite.issue",
                       "invite.revoke"]
    page = admin.get("/audit")
    assert page.status_code == 200 and "clip.approve" in page.text
    assert 'href="/audit"' in page.text  # reachable from the staff navigation
    exported = admin.get("/audit.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["action"] for r in rows][::-1] == actions
    assert all(r["actor"] == "boss@leeds.gov.uk" for r in rows)
    assert token not in exported.text and "testclient" not in exported.text
    viewer = env.signed_in("val@leeds.gov.uk", "editor")
    assert viewer.get("/audit").status_code == 403
    assert viewer.get("/audit.csv").status_code == 403


def test_deleting_a_campaign_erases_its_recordings_and_keeps_the_consent_trail(any_env) -> None:
    env = any_env
    admin = env.signed_in("boss@leeds.gov.uk", "admin")
    camp = create_campaign(admin)
    clip_id = _upload(admin, camp["id"])
    store = get_store(env.settings)
    with unit_of_work(env.settings) as db:
        key = db.get(Clip, clip_id).original_key
    assert store.exists(key)
    answer = admin.form(f"/campaigns/{camp['id']}/delete")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/erasures/")
    assert not store.exists(key)  # before: the recording stayed on disk
    with unit_of_work(env.settings) as db:
        assert db.get(Campaign, camp["id"]) is None
        [kept] = db.scalars(select(Consent)).all()  # before: the consent rows went with it
        assert kept.campaign_id is None and kept.clip_id is None and kept.erased_at
        assert kept.organisation_id and kept.note == "" and kept.method == "signed_form"
        report = db.scalar(select(ErasureReport))
        assert report.scope == "campaign" and key in report.objects_removed
    assert admin.get(answer.headers["location"]).status_code == 200


def test_erasing_a_clip_needs_an_admin_and_a_confirmation(env) -> None:
    editor = env.signed_in("ed@leeds.gov.uk", "editor")
    camp = create_campaign(editor)
    clip_id = _upload(editor, camp["id"])
    assert editor.form(f"/clips/{clip_id}/erase", {"confirm": "yes"}).status_code == 403
    admin = env.signed_in("boss@leeds.gov.uk", "admin")
    assert admin.form(f"/clips/{clip_id}/erase").status_code == 422
    answer = admin.form(f"/clips/{clip_id}/erase", {"confirm": "yes"})
    assert answer.status_code == 303
    with unit_of_work(env.settings) as db:
        assert db.get(Clip, clip_id) is None


def test_a_leader_with_recordings_is_erased_not_deleted(env) -> None:
    admin = env.signed_in("boss@leeds.gov.uk", "admin")
    camp = create_campaign(admin)
    leader = create_leader(admin)
    _upload(admin, camp["id"], leader_id=leader["id"])
    assert admin.api("DELETE", f"/api/leaders/{leader['id']}").status_code == 409
    assert "Erase the person" in admin.get(f"/leaders/{leader['id']}/edit").text
    answer = admin.form(f"/leaders/{leader['id']}/erase", {"confirm": "yes"})
    assert answer.status_code == 303
    with unit_of_work(env.settings) as db:
        assert db.scalars(select(Clip)).all() == []


def test_a_clip_in_no_output_of_the_compile_is_listed_skipped_not_rendered(env) -> None:
    from service.models import Compile, CompileClip
    from service.renders import state
    from service.renders.plan import load_plan

    admin = env.signed_in("boss@leeds.gov.uk", "admin")
    camp = create_campaign(admin, formats=["landscape"])
    insta = _upload(admin, camp["id"])
    every = _upload(admin, camp["id"])
    _ready(env, insta, ["instagram"])  # no landscape channel, no WhatsApp
    _ready(env, every, ["all"])
    with unit_of_work(env.settings) as db:
        for clip_id in (insta, every):
            db.get(Clip, clip_id).status = "approved"
            db.get(Clip, clip_id).sentences = ["a", "b", "c"]
        row = Compile(campaign_id=camp["id"], formats=["landscape"], status="running")
        db.add(row)
        db.flush()
        plan = load_plan(db, row.id, include_unlisted=True)  # what the compile starts with
        state.sync_clip_rows(db, plan)
        assert [c.clip_id for c in plan.clips] == [every]
        assert plan.clips[0].channels == ("all",)
        skipped = db.scalar(select(CompileClip).where(CompileClip.clip_id == insta))
        assert (skipped.status, skipped.error_code) == ("skipped", "channel_not_agreed")
