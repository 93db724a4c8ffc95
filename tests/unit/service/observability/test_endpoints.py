"""/healthz, /readyz and /metrics on the real app (TestClient, SQLite), with the machine's
real Redis (127.0.0.1:6379) as broker where the test says so."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from service import queue
from service.db import unit_of_work
from service.models import Compile, CompileClip
from service.observability import time_stage
from service.settings import Settings
from service.web.app import create_app
from tests.fixtures import service_rows as rows
from tests.fixtures.service_env import Env, service_env

REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own; only dramatiq:* keys touched


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with service_env(tmp_path) as built:
        yield built


def client_for(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), base_url="http://testserver")


def _redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not answering on 127.0.0.1:6379: bash infra/scripts/services.sh "
                    "(apt-get install redis-server)", pytrace=False)
    return client


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or None."""
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:]+)(?:\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    return None


# --- /healthz -------------------------------------------------------------------------------


def test_healthz_is_fast_and_needs_no_dependency(tmp_path: Path) -> None:
    # A database that cannot even be opened: liveness must not care.
    settings = rows.make_settings(tmp_path, database_url="postgresql+psycopg://x@127.0.0.1:1/x")
    client = client_for(settings)
    started = time.monotonic()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert time.monotonic() - started < 0.5


# --- /readyz --------------------------------------------------------------------------------


def test_readyz_ready_on_sqlite_and_local_storage(env: Env) -> None:
    response = client_for(env.settings).get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["failed"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["storage"]["ok"]
    assert body["checks"]["broker"]["skipped"] == "in-process broker"
    assert response.headers["cache-control"] == "no-store"


def test_readyz_names_a_failing_database(tmp_path: Path) -> None:
    settings = rows.make_settings(tmp_path, database_url="postgresql+psycopg://x@127.0.0.1:1/x")
    response = client_for(settings).get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database"]
    assert "OperationalError" in body["checks"]["database"]["error"]


def test_readyz_names_unreachable_storage(env: Env, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    settings = env.settings.model_copy(update={"storage_root": blocker})
    response = client_for(settings).get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]


def test_readyz_names_an_unreachable_s3_store(env: Env) -> None:
    settings = env.settings.model_copy(update={
        "storage_backend": "s3", "s3_bucket": "chorus", "s3_endpoint_url": "http://127.0.0.1:1",
        "s3_access_key_id": "k", "s3_secret_access_key": "s", "s3_region": "us-east-1"})
    started = time.monotonic()
    response = client_for(settings).get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]
    assert time.monotonic() - started < 5


def test_readyz_with_the_real_redis_broker(env: Env) -> None:
    _redis()
    settings = env.settings.model_copy(update={"broker": "redis", "broker_url": REDIS_URL})
    response = client_for(settings).get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["broker"]["ok"] is True


def test_readyz_503_when_the_broker_is_unreachable(env: Env) -> None:
    settings = env.settings.model_copy(update={"broker": "redis",
                                               "broker_url": "redis://127.0.0.1:1/0"})
    started = time.monotonic()
    response = client_for(settings).get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["failed"] == ["broker"]
    assert "ConnectionError" in body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] and body["checks"]["storage"]["ok"]
    assert time.monotonic() - started < 5


def test_readyz_503_when_rabbitmq_is_unreachable(env: Env) -> None:
    settings = env.settings.model_copy(update={"broker": "rabbitmq",
                                               "broker_url": "amqp://guest:guest@127.0.0.1:1/"})
    response = client_for(settings).get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]


def test_a_hung_check_times_out() -> None:
    from service.observability.health import run_checks

    started = time.monotonic()
    results = run_checks({"slow": lambda: time.sleep(2), "fast": lambda: None}, timeout=0.3)
    assert time.monotonic() - started < 1.0
    by_name = {r.name: r for r in results}
    assert not by_name["slow"].ok and "timed out" in (by_name["slow"].error or "")
    assert by_name["fast"].ok


# --- /metrics -------------------------------------------------------------------------------


def test_metrics_count_jobs_by_stage_and_state(env: Env, tmp_path: Path) -> None:
    src = tmp_path / "clip.mp4"
    src.write_bytes(b"not really a video")
    with unit_of_work(env.settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org)
        approved = rows.clip(s, env.store, camp, src, status="approved")
        rows.clip(s, env.store, camp, src, status="approved")
        rows.clip(s, env.store, camp, src, status="received")
        running = Compile(campaign_id=camp.id, formats=["landscape"], status="running")
        done = Compile(campaign_id=camp.id, formats=["landscape"], status="done")
        s.add_all([running, done])
        s.flush()
        s.add(CompileClip(compile_id=running.id, clip_id=approved.id, status="running"))
        s.add(CompileClip(compile_id=done.id, clip_id=approved.id, status="done"))
    response = client_for(env.settings).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    assert sample(text, "chorus_jobs", stage="clip.probe", state="approved") == 2
    assert sample(text, "chorus_jobs", stage="clip.probe", state="received") == 1
    assert sample(text, "chorus_jobs", stage="compile.run", state="running") == 1
    assert sample(text, "chorus_jobs", stage="compile.run", state="done") == 1
    assert sample(text, "chorus_jobs", stage="compile.clip", state="running") == 1
    assert sample(text, "chorus_metrics_source_up", source="database") == 1


def test_metrics_queue_depth_from_the_in_process_broker(env: Env) -> None:
    queue.send(env.broker, "compile.run", {"compile_id": "c1"})
    queue.send(env.broker, "compile.run", {"compile_id": "c2"})
    queue.send(env.broker, "clip.probe", {"clip_id": "x"})
    text = client_for(env.settings).get("/metrics").text
    assert sample(text, "chorus_queue_messages", queue="compiles", kind="ready") == 2
    assert sample(text, "chorus_queue_messages", queue="clips", kind="ready") == 1


def test_metrics_queue_depth_from_the_real_redis(env: Env) -> None:
    client = _redis()
    settings = env.settings.model_copy(update={"broker": "redis", "broker_url": REDIS_URL})
    keys = ["dramatiq:compiles", "dramatiq:compiles.msgs", "dramatiq:compiles.DQ",
            "dramatiq:compiles.XQ", "dramatiq:clips", "dramatiq:clips.msgs",
            "dramatiq:clips.DQ", "dramatiq:clips.XQ"]
    client.delete(*keys)
    broker = queue.make_broker(settings)
    try:
        for n in range(3):
            queue.send(broker, "compile.run", {"compile_id": f"redis-{uuid.uuid4().hex}-{n}"})
        text = client_for(settings).get("/metrics").text
        assert sample(text, "chorus_queue_messages", queue="compiles", kind="ready") == 3
        assert sample(text, "chorus_queue_messages", queue="clips", kind="ready") == 0
        assert sample(text, "chorus_metrics_source_up", source="broker") == 1
    finally:
        client.delete(*keys)
        broker.close()


def test_metrics_still_answer_when_the_broker_is_down(env: Env) -> None:
    settings = env.settings.model_copy(update={"broker": "redis",
                                               "broker_url": "redis://127.0.0.1:1/0"})
    response = client_for(settings).get("/metrics")
    assert response.status_code == 200
    assert sample(response.text, "chorus_metrics_source_up", source="broker") == 0
    assert sample(response.text, "chorus_metrics_source_up", source="database") == 1


def test_stage_durations_reach_metrics(env: Env) -> None:
    stage = f"test.stage.{uuid.uuid4().hex[:6]}"
    with time_stage(stage):
        time.sleep(0.01)
    with pytest.raises(RuntimeError), time_stage(stage):
        raise RuntimeError("stage failed")
    text = client_for(env.settings).get("/metrics").text
    assert sample(text, "chorus_stage_duration_seconds_count", stage=stage, outcome="ok") == 1
    assert sample(text, "chorus_stage_duration_seconds_count", stage=stage,
                  outcome="failed") == 1
    total = sample(text, "chorus_stage_duration_seconds_sum", stage=stage, outcome="ok")
    assert total is not None and 0.01 <= total < 1
