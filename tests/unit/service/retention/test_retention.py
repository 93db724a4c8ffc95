"""Retention with a moved clock: each rule keeps things exactly its period, then erases them.

``now`` is injected; rows and files are made at the real time and the sweep is run as if
days had passed.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from service.db import dispose_engines, get_engine, unit_of_work
from service.models import (
    AuditEvent,
    Base,
    Clip,
    Compile,
    Consent,
    ErasureReport,
    ObjectLineage,
    TusUpload,
    utcnow,
)
from service.retention.service import plan, sweep
from service.storage import get_store
from tests.fixtures import service_rows as rows
from tests.fixtures.staff import throwaway_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path):
    with ExitStack() as stack:
        url = stack.enter_context(throwaway_postgres()) if request.param == "postgresql" \
            else None
        s = rows.make_settings(tmp_path, url, retention_clip_days=180,
                               retention_unused_days=30, retention_withdrawn_days=7,
                               retention_temp_hours=24)
        Base.metadata.create_all(get_engine(s))
        yield s
        dispose_engines()


@pytest.fixture
def media(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(os.urandom(4096))
    return path


def _kinds(items) -> set[tuple[str, str]]:
    return {(d.kind, d.rule) for d in items}


def test_each_rule_waits_its_period_then_erases(settings, media) -> None:
    store = get_store(settings)
    start = utcnow()
    with unit_of_work(settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org)  # deadline: start + 14 days
        kept = rows.clip(s, store, camp, media, status="approved")
        rejected = rows.clip(s, store, camp, media, status="rejected")
        withdrawn = rows.clip(s, store, camp, media, status="approved")
        s.query(Consent).filter_by(clip_id=withdrawn.id).update({"withdrawn_at": start})
        s.add(ObjectLineage(object_key=f"segments/{'a' * 64}.mov", clip_id=kept.id,
                            kind="segment"))
        store.put_bytes(f"segments/{'a' * 64}.mov", b"segment")
        part = Path(settings.data_dir) / "uploads-test.part"
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(b"half")
        s.add(TusUpload(campaign_id=camp.id, length=10, offset=4, tmp_path=str(part),
                        expires_at=start + timedelta(days=1), metadata_={"filename": "x"}))
        ids = {"kept": kept.id, "rejected": rejected.id, "withdrawn": withdrawn.id,
               "camp": camp.id}
        keys = {"kept": kept.original_key, "rejected": rejected.original_key}
    old = Path(settings.data_dir) / "work" / "review" / "some-clip"
    old.mkdir(parents=True)
    (old / "preview.jpg").write_bytes(b"jpeg")

    def due_at(days: float) -> set[tuple[str, str]]:
        with unit_of_work(settings) as s:
            return _kinds(plan(s, settings, start + timedelta(days=days)))

    assert due_at(0) == set()
    assert due_at(6.9) == {("temp", "older_than_temp_period")}
    assert ("clip", "consent_withdrawn") in due_at(7.1)
    assert ("clip", "never_approved") not in due_at(29.9)
    assert {("clip", "never_approved"), ("upload", "unfinished")} <= due_at(30.1)
    assert ("clip", "campaign_ended") not in due_at(14 + 179.9)  # deadline + 180 days
    assert ("clip", "campaign_ended") in due_at(14 + 180.1)

    # a dry run lists, deletes nothing
    with unit_of_work(settings) as s:
        listed = sweep(s, settings, store, start + timedelta(days=31), dry_run=True)
    assert {d.ref for d in listed.due if d.kind == "clip"} == {ids["rejected"], ids["withdrawn"]}
    assert store.exists(keys["rejected"]) and part.exists() and old.exists()

    with unit_of_work(settings) as s:
        done = sweep(s, settings, store, start + timedelta(days=31))
    assert len(done.reports) == 1
    assert not store.exists(keys["rejected"]) and store.exists(keys["kept"])
    assert not part.exists() and not old.exists()
    with unit_of_work(settings) as s:
        assert {c.id for c in s.scalars(select(Clip))} == {ids["kept"]}
        assert s.scalars(select(TusUpload)).all() == []
        report = s.get(ErasureReport, done.reports[0])
        assert report.scope == "retention" and set(report.clip_ids) == {ids["rejected"],
                                                                         ids["withdrawn"]}
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "retention.run"))
        assert event.actor_email == "system" and event.actor_user_id is None
        # consent evidence of the erased clips stays, without the link to them
        assert s.scalars(select(Consent).where(Consent.erased_at.is_not(None))).all()

    # the last compile moves the campaign's end: originals stay 180 days after it
    with unit_of_work(settings) as s:
        s.add(Compile(campaign_id=ids["camp"], formats=["landscape"], status="done",
                      finished_at=start + timedelta(days=100)))
    assert ("clip", "campaign_ended") not in due_at(14 + 180.1)
    assert ("clip", "campaign_ended") in due_at(100 + 180.1)
    with unit_of_work(settings) as s:
        sweep(s, settings, store, start + timedelta(days=281))
    assert not store.exists(keys["kept"])
    assert not store.exists(f"segments/{'a' * 64}.mov")  # everything made from it went too
    with unit_of_work(settings) as s:
        assert s.scalars(select(Clip)).all() == []
        assert s.scalars(select(ObjectLineage)).all() == []


def test_orphans_left_by_a_late_worker_are_swept(settings, media) -> None:
    """A segment stored (with lineage) for a clip erased meanwhile is found and removed."""
    store = get_store(settings)
    store.put_bytes("segments/" + "b" * 64 + ".mov", b"late")
    cache = Path(settings.data_dir) / "cache" / "segments" / "analysis"
    cache.mkdir(parents=True)
    (cache / "k.json").write_text('{"source_sha256": "' + "c" * 64 + '"}')
    (cache / "k.wav").write_bytes(b"RIFF")
    with unit_of_work(settings) as s:
        s.add(ObjectLineage(object_key="segments/" + "b" * 64 + ".mov", clip_id="gone",
                            kind="segment"))
    with unit_of_work(settings) as s:
        assert _kinds(plan(s, settings, utcnow())) == {("orphan_object", "clip_gone"),
                                                       ("cache", "original_gone")}
        sweep(s, settings, store, utcnow())
    assert not store.exists("segments/" + "b" * 64 + ".mov")
    assert not (cache / "k.json").exists() and not (cache / "k.wav").exists()


def test_chorus_retention_dry_run_lists_and_keeps(settings, media, monkeypatch, capsys) -> None:
    from service import cli
    from service.settings import get_settings

    store = get_store(settings)
    with unit_of_work(settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org)
        clip = rows.clip(s, store, camp, media, status="failed")
        clip.created_at = utcnow() - timedelta(days=31)
        clip_id, key = clip.id, clip.original_key
    for name, value in {"DATABASE_URL": settings.database_url, "DATA_DIR": settings.data_dir,
                        "STORAGE_ROOT": settings.storage_root,
                        "RETENTION_UNUSED_DAYS": "30"}.items():
        monkeypatch.setenv(f"CHORUS_{name}", str(value))
    get_settings.cache_clear()
    try:
        assert cli.main(["retention", "--dry-run"]) == 0
        out = capsys.readouterr()
        assert f"clip\tnever_approved\t{clip_id}" in out.out
        assert "1 item(s) would be removed" in out.err
        assert store.exists(key)
        assert cli.main(["retention"]) == 0
        assert not store.exists(key)
    finally:
        get_settings.cache_clear()


def test_the_worker_timer_sweeps_and_stops(settings, media) -> None:
    from service.retention import schedule

    store = get_store(settings)
    with unit_of_work(settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org)
        clip = rows.clip(s, store, camp, media, status="rejected")
        clip.created_at = utcnow() - timedelta(days=31)
        key = clip.original_key
    assert schedule.start(settings.model_copy(update={"retention_interval_minutes": 0})) is None
    timer = schedule.start(settings, first_delay=0.0)
    assert timer is not None
    try:
        deadline = utcnow() + timedelta(seconds=20)
        while timer.runs == 0 and utcnow() < deadline:
            timer.join(0.05)
        assert timer.runs == 1 and not store.exists(key)
    finally:
        timer.stop()
        timer.join(5)
    assert not timer.is_alive()
