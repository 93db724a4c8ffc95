"""Clips and compiles over HTTP: upload with consent, roles, scoping, Range, review, compile."""

from __future__ import annotations

import json

import pytest
from dramatiq.brokers.stub import StubBroker

from service import queue
from service.db import unit_of_work
from service.models import Clip, Compile, Consent
from service.storage import get_store
from tests.fixtures.staff import create_campaign, env, fast_hashing  # noqa: F401


@pytest.fixture
def broker(env) -> StubBroker:  # noqa: F811
    b = queue.make_broker(env.settings)
    queue.set_broker(b)
    yield b
    queue.set_broker(None)


def _upload(staff, campaign_id: str, files: list[tuple[str, bytes]], **extra):
    data = {"language": "en", "speaker_name": "Imam Ahmed", "speaker_role": "Imam",
            "consent_method": "signed_form", "consent_date": "2024-03-01",
            "consent_note": "form kept in the office", "csrf_token": staff.csrf, **extra}
    return staff.http.post(f"/campaigns/{campaign_id}/clips/upload", data=data,
                           files=[("files", (n, b, "video/mp4")) for n, b in files],
                           headers={"Accept": "application/json"})


def test_staff_upload_stores_files_with_consent_and_sends_probe(env, broker) -> None:  # noqa: F811
    staff = env.signed_in("admin@leeds.gov.uk")
    camp = create_campaign(staff)
    r = _upload(staff, camp["id"], [("a.mp4", b"A" * 5000), ("b.mp4", b"B" * 7000)])
    assert r.status_code == 201, r.text
    ids = r.json()["clips"]
    assert len(ids) == 2
    store = get_store(env.settings)
    with unit_of_work(env.settings) as s:
        for clip_id, size in zip(ids, (5000, 7000), strict=True):
            clip = s.get(Clip, clip_id)
            assert (clip.status, clip.source, clip.size_bytes) == ("received", "staff_upload",
                                                                   size)
            assert store.size(clip.original_key) == size
            consent = s.query(Consent).filter_by(clip_id=clip_id).one()
            assert consent.method == "signed_form" and consent.agreed_at.day == 1
            assert consent.note == "form kept in the office"
    sent = [json.loads(m) for m in list(broker.queues["clips"].queue)]
    assert sorted(m["kwargs"]["clip_id"] for m in sent) == sorted(ids)


def test_upload_without_consent_details_is_refused_and_stores_nothing(env, broker) -> None:  # noqa: F811
    staff = env.signed_in("admin@leeds.gov.uk")
    camp = create_campaign(staff)
    r = _upload(staff, camp["id"], [("a.mp4", b"A" * 100)], consent_method="")
    assert r.status_code == 422
    with unit_of_work(env.settings) as s:
        assert s.query(Clip).count() == 0


def test_roles_scoping_review_and_range(env, broker) -> None:  # noqa: F811
    staff = env.signed_in("admin@leeds.gov.uk")
    camp = create_campaign(staff)
    clip_id = _upload(staff, camp["id"], [("a.mp4", bytes(range(256)) * 40)]).json()["clips"][0]
    with unit_of_work(env.settings) as s:
        s.get(Clip, clip_id).status = "ready"
        s.get(Clip, clip_id).duration = 5.0

    viewer = env.signed_in("viewer@leeds.gov.uk", role="viewer")
    assert viewer.get(f"/clips/{clip_id}").status_code == 200
    assert viewer.api("POST", f"/api/clips/{clip_id}/review",
                      json={"action": "approve"}).status_code == 403
    other = env.signed_in("admin@bradford.gov.uk", organisation="Bradford Council")
    assert other.get(f"/clips/{clip_id}").status_code == 404
    assert other.get(f"/clips/{clip_id}/original").status_code == 404

    part = viewer.get(f"/clips/{clip_id}/original", headers={"Range": "bytes=256-511"})
    assert part.status_code == 206
    assert part.headers["content-range"] == "bytes 256-511/10240"
    assert part.content == bytes(range(256))
    assert viewer.get(f"/clips/{clip_id}/original",
                      headers={"Range": "bytes=99999-"}).status_code == 416

    r = staff.api("POST", f"/api/clips/{clip_id}/review", json={"action": "reject"})
    assert r.status_code == 400 and "reason" in r.text
    r = staff.api("POST", f"/api/clips/{clip_id}/review",
                  json={"action": "reject", "reason_code": "too_dark", "note": ""})
    assert r.status_code == 200 and r.json()["reject_reason_code"] == "too_dark"
    r = staff.api("PUT", f"/api/clips/{clip_id}/trim", json={"trim_start": 0.5, "trim_end": 9})
    assert r.status_code == 400  # past the end
    r = staff.api("PUT", f"/api/clips/{clip_id}/trim", json={"trim_start": 0.5, "trim_end": 4})
    assert r.status_code == 200 and r.json()["trim_end"] == 4
    r = staff.api("PUT", f"/api/clips/{clip_id}/cues",
                  json={"cues": [{"start": 0.6, "end": 1.5}, {"start": 1.4, "end": 2.0}]})
    assert r.status_code == 400  # overlapping
    r = staff.api("PUT", f"/api/clips/{clip_id}/cues",
                  json={"cues": [{"start": 0.6, "end": 1.5}, {"start": 1.6, "end": 2.5}]})
    assert r.status_code == 200 and len(r.json()["caption_cues"]) == 2
    r = staff.api("POST", f"/api/clips/{clip_id}/review", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "approved"

    # a page form without its CSRF token is refused
    assert staff.http.post(f"/clips/{clip_id}/review",
                           data={"action": "approve"}).status_code == 403


def test_approve_without_consent_is_refused(env, broker) -> None:  # noqa: F811
    staff = env.signed_in("admin@leeds.gov.uk")
    camp = create_campaign(staff)
    clip_id = _upload(staff, camp["id"], [("a.mp4", b"x" * 100)]).json()["clips"][0]
    with unit_of_work(env.settings) as s:
        s.get(Clip, clip_id).status = "ready"
        for c in s.query(Consent).filter_by(clip_id=clip_id):
            s.delete(c)
    r = staff.api("POST", f"/api/clips/{clip_id}/review", json={"action": "approve"})
    assert r.status_code == 409 and "consent" in r.text


def test_start_compile_progress_and_downloads(env, broker) -> None:  # noqa: F811
    staff = env.signed_in("admin@leeds.gov.uk")
    camp = create_campaign(staff)
    assert staff.api("POST", f"/api/campaigns/{camp['id']}/compiles",
                     json={"formats": ["landscape"]}).status_code == 409  # nothing approved
    clip_id = _upload(staff, camp["id"], [("a.mp4", b"x" * 100)]).json()["clips"][0]
    with unit_of_work(env.settings) as s:
        s.get(Clip, clip_id).status = "approved"
    viewer = env.signed_in("viewer@leeds.gov.uk", role="viewer")
    assert viewer.api("POST", f"/api/campaigns/{camp['id']}/compiles",
                      json={"formats": ["landscape"]}).status_code == 403
    r = staff.api("POST", f"/api/campaigns/{camp['id']}/compiles",
                  json={"formats": ["landscape", "square"]})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "queued" and [c["clip_id"] for c in body["clips"]] == [clip_id]
    sent = [json.loads(m) for m in list(broker.queues["compiles"].queue)]
    assert [m["kwargs"] for m in sent] == [{"compile_id": body["id"]}]

    # pretend the worker finished: outputs stored and recorded
    store = get_store(env.settings)
    store.put_bytes(f"compiles/{body['id']}/subtitles/ur.vtt", b"WEBVTT\n", "text/vtt")
    with unit_of_work(env.settings) as s:
        row = s.get(Compile, body["id"])
        row.status, row.progress = "done", 1.0
        row.outputs = [{"name": "subtitles/ur.vtt", "key": f"compiles/{row.id}/subtitles/ur.vtt",
                        "content_type": "text/vtt", "size": 7}]
    got = viewer.get(f"/api/compiles/{body['id']}").json()
    assert got["progress"] == 1.0 and got["outputs"][0]["url"].endswith("/subtitles/ur.vtt")
    dl = viewer.get(got["outputs"][0]["url"])
    assert dl.status_code == 200 and dl.headers["content-type"].startswith("text/vtt")
    assert dl.content == b"WEBVTT\n"
    assert viewer.get(f"/compiles/{body['id']}/files/../../etc/passwd").status_code == 404
    page = viewer.get(f"/compiles/{body['id']}")
    assert page.status_code == 200 and "/renders/static/progress.js" in page.text
    js = viewer.get("/renders/static/progress.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
