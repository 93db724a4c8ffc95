"""Erasure reaches every copy: after a real compile, erasing a person leaves nothing of them.

One campaign, three clips with real speech: an English speaker, the person to erase (Urdu,
through an invite link) and a third whose consent covers WhatsApp only. A real compile runs
through the embedded workers; the review page renders a preview. Then an admin erases the
person over HTTP, and the test scans the whole data folder, every object in the store (the
local disk, or the moto S3 server) and every text and JSON column of every table: neither the
person's name nor the SHA-256 of their recording is found anywhere, nor any of their media
(every file's hash is compared with the original's). Their consent row stays, pseudonymous;
the compile they were in is withdrawn and a new one queued without them.

The same compile checks channels: the WhatsApp-only clip is in its language's cut but not in
the video, and the report says so.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, String, Text, select

from service import jobs, queue
from service.db import dispose_engines, get_engine, unit_of_work
from service.leaders.service import issue_invite
from service.models import (
    AuditEvent,
    Base,
    Compile,
    Consent,
    ErasureReport,
    ObjectLineage,
)
from service.organisations.service import add_user
from service.storage import get_store
from service.web.app import create_app
from tests.fixtures import service_rows as rows
from tests.fixtures.media import make_clip
from tests.fixtures.staff import PASSWORD, login
from tests.integration.compile_env import moto_s3, throwaway_postgres

pytestmark = [pytest.mark.media, pytest.mark.slow]

NAME = "Zainab Qudsia Erasable"
ROLE = "Khateeba, Noor Centre"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("erasure-media")
    return {
        "en": make_clip(folder / "en.mp4", size=(640, 360), speech_text="Stay at home.",
                        lead_silence=0.3, tail_silence=0.3),
        "ur": make_clip(folder / "ur.mp4", size=(640, 360), speech_text="گھر پر رہیں",
                        voice="ur", lead_silence=0.3, tail_silence=0.3),
        "wa": make_clip(folder / "wa.mp4", size=(640, 360), speech_text="Protect the NHS.",
                        lead_silence=0.3, tail_silence=0.3),
    }


@pytest.fixture(params=["sqlite-local", "postgres-s3"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    with ExitStack() as stack:
        extra: dict[str, object] = {"public_url": "http://testserver"}
        if request.param == "sqlite-local":
            s = rows.make_settings(tmp_path, **extra)
        else:
            url = stack.enter_context(throwaway_postgres())
            s3 = stack.enter_context(moto_s3())
            s = rows.make_settings(tmp_path, url, **s3, **extra)
            get_store(s).ensure_bucket()  # type: ignore[attr-defined]
        Base.metadata.create_all(get_engine(s))
        queue.set_broker(None)
        yield s
        queue.set_broker(None)
        dispose_engines()


def _wait(settings, compile_id: str, timeout: float = 300) -> Compile:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unit_of_work(settings) as s:
            row = s.get(Compile, compile_id)
            if row.status in ("done", "failed"):
                s.expunge(row)
                return row
        time.sleep(0.25)
    raise AssertionError(f"compile {compile_id} did not finish in {timeout} s")


def _stored_objects(settings) -> dict[str, bytes]:
    """Every object in the store, read back whole (the local root, or the whole bucket)."""
    if settings.storage_backend == "s3":
        client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url,
                              region_name=settings.s3_region,
                              aws_access_key_id="test", aws_secret_access_key="test")
        out = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=settings.s3_bucket):
            for obj in page.get("Contents", []):
                body = client.get_object(Bucket=settings.s3_bucket, Key=obj["Key"])["Body"]
                out[obj["Key"]] = body.read()
        return out
    root = Path(settings.storage_root)
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _disk_files(settings) -> dict[str, bytes]:
    root = Path(settings.data_dir)
    return {str(p): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and not p.name.startswith("chorus.db")}


def _database_text(settings) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text and JSON value of every table."""
    out = []
    with get_engine(settings).connect() as conn:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            if not cols:
                continue
            for row in conn.execute(select(*cols)):
                for col, value in zip(cols, row, strict=True):
                    if value is not None:
                        text = value if isinstance(value, str) else json.dumps(
                            value, ensure_ascii=False)
                        out.append((table.name, col.name, text))
    return out


def _contains_person(data: bytes, needles: list[bytes], original_sha: str) -> bool:
    return any(n in data for n in needles) or hashlib.sha256(data).hexdigest() == original_sha


def test_erasing_a_person_leaves_nothing_of_them_anywhere(settings, media) -> None:
    store = get_store(settings)
    app = create_app(settings)
    with unit_of_work(settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org, translation_language="en", formats=("landscape",))
        admin_id = add_user(s, org, email="admin@leeds.example", name="Admin", role="admin",
                            password=PASSWORD).id
        person = rows.leader(s, org, "ur", name=NAME)
        person.role = ROLE
        invite = issue_invite(s, camp, person).invite
        en = rows.clip(s, store, camp, media["en"], language="en")
        ur = rows.clip(s, store, camp, media["ur"], language="ur", lead=person)
        ur.invite_id = invite.id
        wa = rows.clip(s, store, camp, media["wa"], language="en")
        s.query(Consent).filter_by(clip_id=ur.id).update(
            {"leader_id": person.id, "invite_id": invite.id, "channels": ["youtube",
                                                                          "website", "whatsapp"],
             "note": f"consent given by {NAME} at the centre"})
        s.query(Consent).filter_by(clip_id=wa.id).update({"channels": ["whatsapp"]})
        comp = Compile(campaign_id=camp.id, formats=["landscape"], status="queued",
                       requested_by=admin_id)
        s.add(comp)
        s.flush()
        jobs.enqueue("compile.run", session=s, compile_id=comp.id)
        ids = {"person": person.id, "ur": ur.id, "en": en.id, "wa": wa.id, "camp": camp.id,
               "compile": comp.id}
        original_sha = ur.original_sha256
        other_key = en.original_key
    workers = jobs.start_embedded_workers(settings, resume=False)
    assert workers is not None
    try:
        done = _wait(settings, ids["compile"])
    finally:
        workers.stop()
    assert done.status == "done", (done.error_code, done.error)
    names = {o["name"] for o in done.outputs}
    assert {"video-landscape.mp4", "cuts/ur-landscape.mp4", "cuts/en-landscape.mp4",
            "report.json"} <= names

    # channels: the WhatsApp-only clip is in the English cut, not in the video; the report says so
    with store.open(f"compiles/{ids['compile']}/report.json") as fh:
        report = json.load(fh)
    assert len(report["videos"]["landscape"]["clips"]) == 2
    left = {e["clip_id"]: e for e in report["consent"]["left_out"]}
    assert set(left) == {ids["wa"]} and left[ids["wa"]]["outputs"] == ["video-landscape.mp4"]
    with unit_of_work(settings) as s:
        cut_sources = set(s.scalars(select(ObjectLineage.clip_id).where(
            ObjectLineage.object_key == f"compiles/{ids['compile']}/cuts/en-landscape.mp4")))
        video_sources = set(s.scalars(select(ObjectLineage.clip_id).where(
            ObjectLineage.object_key == f"compiles/{ids['compile']}/video-landscape.mp4")))
    assert cut_sources == {ids["en"], ids["wa"]}
    assert video_sources == {ids["en"], ids["ur"]}

    # before: the person is really there (so the scan below can find them)
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    login(client, "admin@leeds.example", PASSWORD)
    csrf = client.get("/api/me").json()["csrf_token"]
    review = client.get(f"/clips/{ids['ur']}")
    assert review.status_code == 200 and "YouTube" in review.text
    assert client.get(f"/clips/{ids['ur']}/preview.jpg?at=1.0").status_code == 200
    needles = [NAME.encode(), original_sha.encode()]
    everything = {**_stored_objects(settings), **_disk_files(settings)}
    assert any(_contains_person(d, needles, original_sha) for d in everything.values())
    assert any(NAME in v for _, _, v in _database_text(settings))

    answer = client.post(f"/api/leaders/{ids['person']}/erase", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    erased = answer.json()
    assert f"compiles/{ids['compile']}/video-landscape.mp4" in erased["objects_removed"]
    assert any(k.startswith("segments/") for k in erased["objects_removed"])
    assert erased["compiles_withdrawn"] == [ids["compile"]]
    assert erased["local_files_removed"] > 0
    assert len(erased["recompiles"]) == 1  # a new compile without the person is queued

    # storage (local disk or S3) and the data folder: nothing of them
    objects = _stored_objects(settings)
    assert other_key in objects  # only the person went
    for key, data in objects.items():
        assert not _contains_person(data, needles, original_sha), key
    for path, data in _disk_files(settings).items():
        assert not _contains_person(data, needles, original_sha), path
    # the engine keeps each clip's encoded sound beside its analysis and its segments: none of
    # it may outlive the file it belongs to (the voice is personal data too)
    cache = Path(settings.data_dir) / "cache" / "segments"
    for sound in cache.rglob("*.aac"):
        owner = sound.with_suffix(".json" if sound.parent.name == "analysis" else ".mov")
        assert owner.exists(), f"{sound} outlived {owner.name}"
    # the database: no text or JSON value names them or their recording
    for table, column, value in _database_text(settings):
        assert NAME not in value and original_sha not in value and ROLE not in value, \
            (table, column)
    with unit_of_work(settings) as s:
        kept = s.scalars(select(Consent).where(Consent.erased_at.is_not(None))).all()
        assert len(kept) == 1 and kept[0].subject_ref and kept[0].leader_id is None
        assert kept[0].channels == ["youtube", "website", "whatsapp"] and kept[0].note == ""
        withdrawn = s.get(Compile, ids["compile"])
        assert withdrawn.withdrawn_reason == "erased" and withdrawn.outputs == []
        report_row = s.get(ErasureReport, erased["id"])
        assert report_row.scope == "leader" and ids["ur"] in report_row.clip_ids
        assert s.scalars(select(AuditEvent.action)).all().count("leader.erase") == 1
    page = client.get(f"/erasures/{erased['id']}")
    assert page.status_code == 200 and "video-landscape.mp4" in page.text
