"""Pipeline rules without rendering: fan-out, exactly one join, claims, lineage, settings checks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from service import jobs, queue
from service.db import unit_of_work
from service.models import Compile, CompileClip, utcnow
from service.renders import state
from tests.fixtures import service_rows as rows
from tests.fixtures.service_env import Env, service_env
from workers.stages import compile as stage
from workers.stages import prepare as prepare_stage
from workers.stages.common import Busy, objects_of_clip, record_lineage


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with service_env(tmp_path) as built:
        yield built


def _messages(env: Env, queue_name: str) -> list[dict]:
    return [json.loads(m) for m in list(env.broker.queues[queue_name].queue)]


def _compile_with_clips(env: Env, n: int, status: str = "queued") -> tuple[str, list[str]]:
    fake = Path(env.settings.data_dir) / "clip.mp4"
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_bytes(b"placeholder")
    with unit_of_work(env.settings) as s:
        camp = rows.campaign(s, rows.organisation(s))
        for _ in range(n):
            rows.clip(s, env.store, camp, fake)
        comp = Compile(campaign_id=camp.id, formats=["landscape"], status=status)
        s.add(comp)
        s.flush()
        return comp.id, []


def test_compile_run_fans_out_one_prepare_per_clip(env: Env) -> None:
    compile_id, _ = _compile_with_clips(env, 3)
    assert stage.run(compile_id, env.settings) == "running"
    with unit_of_work(env.settings) as s:
        ccs = s.query(CompileClip).filter_by(compile_id=compile_id).all()
        assert len(ccs) == 3 and all(cc.status == "queued" for cc in ccs)
        ids = {cc.id for cc in ccs}
    sent = _messages(env, "renders")
    assert [m["actor_name"] for m in sent] == ["clip.prepare"] * 3
    assert {m["kwargs"]["compile_clip_id"] for m in sent} == ids  # ids only
    assert _messages(env, "compiles") == []  # no join while clips are due


def test_exactly_one_join_when_the_last_clips_end_together(env: Env) -> None:
    """Many rounds of two threads ending the last two clips and trying to join at once."""
    winners_per_round = []
    for _ in range(15):
        compile_id, _ = _compile_with_clips(env, 2)
        stage.run(compile_id, env.settings)
        with unit_of_work(env.settings) as s:
            cc_ids = [cc.id for cc in s.query(CompileClip).filter_by(compile_id=compile_id)]
        barrier = threading.Barrier(2)
        won: list[bool] = []

        def finish(cc_id: str, cid: str = compile_id, b: threading.Barrier = barrier,
                   out: list[bool] = won) -> None:
            with unit_of_work(env.settings) as s:
                s.get(CompileClip, cc_id).status = "done"
            b.wait()
            out.append(state.join_if_ready(env.settings, cid))

        threads = [threading.Thread(target=finish, args=(cc,)) for cc in cc_ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners_per_round.append(sum(won))
        with unit_of_work(env.settings) as s:
            assert s.get(Compile, compile_id).status == "joining"
    assert winners_per_round == [1] * 15
    joins = [m for m in _messages(env, "compiles") if m["actor_name"] == "compile.join"]
    assert len(joins) == 15


def test_no_join_while_a_clip_is_running_and_a_failed_clip_does_not_block(env: Env) -> None:
    compile_id, _ = _compile_with_clips(env, 2)
    stage.run(compile_id, env.settings)
    with unit_of_work(env.settings) as s:
        a, b = s.query(CompileClip).filter_by(compile_id=compile_id).all()
        a.status, b.status = "done", "running"
        b_id = b.id
    assert state.join_if_ready(env.settings, compile_id) is False
    with unit_of_work(env.settings) as s:
        s.get(CompileClip, b_id).status = "failed"
    assert state.join_if_ready(env.settings, compile_id) is True
    assert state.join_if_ready(env.settings, compile_id) is False  # once only


def test_clip_claim_is_exclusive_until_the_lease_lapses(env: Env) -> None:
    compile_id, _ = _compile_with_clips(env, 1)
    stage.run(compile_id, env.settings)
    with unit_of_work(env.settings) as s:
        cc_id = s.query(CompileClip).filter_by(compile_id=compile_id).one().id
    first = prepare_stage.claim(env.settings, cc_id)
    assert isinstance(first, CompileClip) and first.attempts == 1
    second = prepare_stage.claim(env.settings, cc_id)
    assert isinstance(second, Busy)  # held: look again when the lease would lapse
    assert 0 < second.seconds <= env.settings.stage_lease_seconds + 1
    with unit_of_work(env.settings) as s:
        s.get(CompileClip, cc_id).heartbeat_at = utcnow() - timedelta(minutes=5)
    third = prepare_stage.claim(env.settings, cc_id)  # its worker died: taken over
    assert isinstance(third, CompileClip) and third.attempts == 2
    with unit_of_work(env.settings) as s:
        s.get(CompileClip, cc_id).status = "done"
    assert prepare_stage.claim(env.settings, cc_id) is None  # done stays done


def test_a_clip_claimed_too_often_fails_instead_of_running_again(env: Env) -> None:
    compile_id, _ = _compile_with_clips(env, 1)
    stage.run(compile_id, env.settings)
    with unit_of_work(env.settings) as s:
        cc = s.query(CompileClip).filter_by(compile_id=compile_id).one()
        cc.attempts = prepare_stage.max_attempts(env.settings)  # every attempt was killed
        cc_id = cc.id
    assert prepare_stage.run(cc_id, env.settings) == "failed"
    with unit_of_work(env.settings) as s:
        cc = s.get(CompileClip, cc_id)
        assert (cc.status, cc.error_code) == ("failed", "too_many_attempts")
        assert s.get(Compile, compile_id).status == "joining"  # the compile goes on


def test_lineage_is_idempotent_and_finds_every_object_of_a_clip(env: Env) -> None:
    with unit_of_work(env.settings) as s:
        record_lineage(s, "segments/k1.mov", ["c1"], kind="segment", compile_id="x")
        record_lineage(s, "segments/k1.mov", ["c1"], kind="segment", compile_id="y")
        record_lineage(s, "compiles/x/video-square.mp4", ["c1", "c2"], kind="output")
    with unit_of_work(env.settings) as s:
        assert objects_of_clip(s, "c1") == ["compiles/x/video-square.mp4", "segments/k1.mov"]
        assert objects_of_clip(s, "c2") == ["compiles/x/video-square.mp4"]


def test_resume_sends_a_lapsed_join_again(env: Env) -> None:
    with unit_of_work(env.settings) as s:
        camp = rows.campaign(s, rows.organisation(s))
        lapsed = Compile(campaign_id=camp.id, status="joining",
                         heartbeat_at=utcnow() - timedelta(minutes=5))
        live = Compile(campaign_id=camp.id, status="joining", heartbeat_at=utcnow())
        s.add_all([lapsed, live])
    resumed = jobs.resume_due_work(env.settings, embedded=False)
    assert resumed.compiles == [lapsed.id]
    assert [(m["actor_name"], m["kwargs"]) for m in _messages(env, "compiles")] == [
        ("compile.join", {"compile_id": lapsed.id})]


def test_settings_that_would_lose_or_steal_work_are_refused(tmp_path: Path) -> None:
    ok = rows.make_settings(tmp_path, broker="redis")
    queue.check_consistency(ok)
    with pytest.raises(queue.BrokerConfigError, match="HEARTBEAT_TIMEOUT"):
        queue.check_consistency(rows.make_settings(tmp_path, broker="redis",
                                                   redis_heartbeat_timeout_ms=2000))
    with pytest.raises(queue.BrokerConfigError, match="consumer_timeout"):
        queue.check_consistency(rows.make_settings(
            tmp_path, broker="rabbitmq", join_time_limit_seconds=1200,
            rabbitmq_consumer_timeout_ms=1_800_000))
    with pytest.raises(queue.BrokerConfigError, match="LEASE"):
        queue.check_consistency(rows.make_settings(tmp_path, stage_lease_seconds=2))
    bound = queue.requeue_bound_seconds(rows.make_settings(
        tmp_path, broker="redis", redis_heartbeat_timeout_ms=5000, stage_lease_seconds=5))
    assert bound == pytest.approx(8.0)


def test_queue_prefix_names_every_queue(tmp_path: Path) -> None:
    settings = rows.make_settings(tmp_path, queue_prefix="run42-")
    assert queue.queue_names(settings) == ["run42-clips", "run42-compiles", "run42-renders"]
    assert queue.queue_name(settings, "clip.prepare") == "run42-renders"
