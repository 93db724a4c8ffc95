"""jobs.enqueue sends after commit (never before, never after a rollback); resume_due_work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from service import jobs, queue
from service.db import unit_of_work
from service.models import Compile, utcnow
from tests.fixtures import service_rows as rows
from tests.fixtures.service_env import Env, service_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with service_env(tmp_path) as built:
        yield built


def _messages(env: Env, queue_name: str) -> list[dict]:
    q = env.broker.queues[queue_name]
    return [json.loads(m) for m in list(q.queue)]


def test_message_is_sent_only_after_commit(env: Env) -> None:
    with unit_of_work(env.settings) as session:
        jobs.enqueue("compile.run", session=session, compile_id="abc")
        assert _messages(env, "compiles") == []
        assert jobs.pending(session) == [("compile.run", {"compile_id": "abc"})]
    sent = _messages(env, "compiles")
    assert [(m["actor_name"], m["kwargs"]) for m in sent] == [
        ("compile.run", {"compile_id": "abc"})]


def test_rollback_drops_the_message(env: Env) -> None:
    with pytest.raises(RuntimeError), unit_of_work(env.settings) as session:
        jobs.enqueue("clip.probe", session=session, clip_id="x")
        raise RuntimeError("handler failed")
    assert _messages(env, "clips") == []


def test_unknown_actor_and_non_id_arguments_are_refused(env: Env) -> None:
    with pytest.raises(queue.UnknownActorError):
        jobs.enqueue("compile.runn", compile_id="a")
    with pytest.raises(TypeError):
        jobs.enqueue("compile.run", compile_id=42)  # type: ignore[arg-type]


def test_resume_due_work_requeues_unfinished_work(env: Env, tmp_path) -> None:
    src = tmp_path / "x.mp4"
    src.write_bytes(b"not really a video")
    with unit_of_work(env.settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org)
        received = rows.clip(s, env.store, camp, src, status="received")
        rows.clip(s, env.store, camp, src, status="ready")
        queued = Compile(campaign_id=camp.id, formats=["landscape"], status="queued")
        running = Compile(campaign_id=camp.id, formats=["landscape"], status="running",
                          heartbeat_at=utcnow())
        done = Compile(campaign_id=camp.id, formats=["landscape"], status="done")
        s.add_all([queued, running, done])
    resumed = jobs.resume_due_work(env.settings, embedded=True)
    assert resumed.clips == [received.id]
    assert set(resumed.compiles) == {queued.id, running.id}
    assert {m["kwargs"]["compile_id"] for m in _messages(env, "compiles")} == {
        queued.id, running.id}
    with unit_of_work(env.settings) as s:
        row = s.get(Compile, running.id)
        assert row is not None and row.status == "queued"  # embedded: owner is certainly gone


def test_resume_at_scale_keeps_a_live_claim(env: Env, tmp_path) -> None:
    with unit_of_work(env.settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org)
        live = Compile(campaign_id=camp.id, status="running", heartbeat_at=utcnow())
        dead = Compile(campaign_id=camp.id, status="running",
                       heartbeat_at=utcnow() - timedelta(seconds=jobs.COMPILE_LEASE_SECONDS + 5))
        s.add_all([live, dead])
    resumed = jobs.resume_due_work(env.settings, embedded=False)
    assert resumed.compiles == [dead.id]
