"""Prometheus metrics: jobs by stage and state, queue depth, stage durations.

Where each number comes from, and why:

* **Jobs by stage and state** are counted from the database at scrape time (``GROUP BY
  status``), not from counters in memory: the database is the truth, it is shared by every
  process, and a counter in a worker that dies would be lost. :data:`JOB_TABLES` lists what is
  counted; a new stage table is one more line there.
* **Queue depth** is read from the broker at scrape time (Redis list lengths, RabbitMQ's
  passive queue declaration, the in-process broker's own queues).
* **Stage durations** can only be measured where the work runs: workers call
  :func:`observe_stage` or ``with time_stage("clip.prepare"):``. The histogram lives in the
  process's default registry; the web app's ``/metrics`` includes it (which covers the
  embedded workers of ``chorus serve``), and ``chorus worker`` exposes it through
  :mod:`service.observability.worker_http`.

A source that cannot be read (database down, broker unreachable) does not fail the scrape:
``chorus_metrics_source_up{source=...}`` says 0 and the rest is still reported.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from service import queue
from service.db import get_sessionmaker
from service.models import Clip, Compile, CompileClip
from service.settings import Settings

log = logging.getLogger(__name__)

STAGE_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 3600, 10800)
"""Seconds: from a quick probe to a three-hour compile (the compile time limit)."""

STAGE_DURATION = Histogram(
    "chorus_stage_duration_seconds",
    "How long one run of a pipeline stage took, by stage and outcome (ok, failed, retried).",
    ["stage", "outcome"],
    buckets=STAGE_BUCKETS,
)

QUEUE_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class JobTable:
    """A table whose rows are jobs of one stage, counted by their ``status`` column."""

    stage: str
    model: Any


JOB_TABLES: tuple[JobTable, ...] = (
    JobTable("clip.probe", Clip),
    JobTable("compile.clip", CompileClip),
    JobTable("compile.run", Compile),
)
"""What ``chorus_jobs`` counts. Clip statuses are the clip's life (received, probing, ready,
approved, rejected, failed); a compile's clips and the compile itself are queued, running,
done, failed (and skipped for a clip left out)."""


# --- stage durations (called by workers) ------------------------------------------------------


def observe_stage(stage: str, seconds: float, outcome: str = "ok") -> None:
    """Record one run of ``stage`` (e.g. ``"clip.prepare"``) that took ``seconds``."""
    STAGE_DURATION.labels(stage=stage, outcome=outcome).observe(max(0.0, seconds))


@contextlib.contextmanager
def time_stage(stage: str) -> Iterator[None]:
    """Time the block as one run of ``stage``: outcome ``ok``, or ``failed`` if it raised."""
    started = time.monotonic()
    outcome = "failed"
    try:
        yield
        outcome = "ok"
    finally:
        observe_stage(stage, time.monotonic() - started, outcome)


# --- jobs from the database -------------------------------------------------------------------


def job_counts(settings: Settings) -> dict[tuple[str, str], int]:
    """``{(stage, state): rows}`` for every table in :data:`JOB_TABLES`."""
    counts: dict[tuple[str, str], int] = {}
    with get_sessionmaker(settings)() as session:
        for table in JOB_TABLES:
            status = table.model.status
            for state, count in session.execute(
                select(status, func.count()).group_by(status)
            ):
                counts[(table.stage, str(state))] = int(count)
    return counts


# --- queue depth from the broker --------------------------------------------------------------


def _queue_names(settings: Settings) -> list[str]:
    """The queues the workers consume, with this deployment's ``queue_prefix``."""
    return queue.queue_names(settings)


def _kind(name: str) -> tuple[str, str]:
    """``("clips", "ready")`` for ``clips``; ``delayed`` for ``clips.DQ``; ``dead`` for .XQ."""
    if name.endswith(".DQ"):
        return name[:-3], "delayed"
    if name.endswith(".XQ"):
        return name[:-3], "dead"
    return name, "ready"


def queue_depths(settings: Settings, timeout: float = QUEUE_TIMEOUT_SECONDS
                 ) -> dict[tuple[str, str], int]:
    """``{(queue, kind): messages}``; kind is ``ready``, ``delayed`` (retries waiting for
    their backoff) or ``dead`` (given up after the last retry)."""
    if settings.broker == "redis":
        return _redis_depths(settings, timeout)
    if settings.broker == "rabbitmq":
        return _rabbitmq_depths(settings, timeout)
    return _stub_depths(settings)


def _redis_depths(settings: Settings, timeout: float) -> dict[tuple[str, str], int]:
    import redis

    # Dramatiq's Redis layout: a list of message ids per queue ("dramatiq:<queue>", and
    # "<queue>.DQ" for delayed retries) and a sorted set of dead messages ("<queue>.XQ").
    client = redis.Redis.from_url(settings.broker_url or "redis://127.0.0.1:6379/0",
                                  socket_connect_timeout=timeout, socket_timeout=timeout)
    depths: dict[tuple[str, str], int] = {}
    try:
        with client.pipeline(transaction=False) as pipe:
            for name in _queue_names(settings):
                pipe.llen(f"dramatiq:{name}")
                pipe.llen(f"dramatiq:{name}.DQ")
                pipe.zcard(f"dramatiq:{name}.XQ")
            values = pipe.execute()
    finally:
        client.close()
    for index, name in enumerate(_queue_names(settings)):
        ready, delayed, dead = values[index * 3: index * 3 + 3]
        depths[(name, "ready")] = int(ready)
        depths[(name, "delayed")] = int(delayed)
        depths[(name, "dead")] = int(dead)
    return depths


def _rabbitmq_depths(settings: Settings, timeout: float) -> dict[tuple[str, str], int]:
    import pika

    params = pika.URLParameters(settings.broker_url or "amqp://guest:guest@127.0.0.1:5672/")
    params.socket_timeout = timeout
    params.blocked_connection_timeout = timeout
    params.stack_timeout = timeout
    params.connection_attempts = 1
    connection = pika.BlockingConnection(params)
    depths: dict[tuple[str, str], int] = {}
    try:
        for name in _queue_names(settings):
            for full in (name, f"{name}.DQ", f"{name}.XQ"):
                channel = connection.channel()
                try:
                    declared = channel.queue_declare(queue=full, passive=True)
                    depths[_kind(full)] = int(declared.method.message_count)
                except pika.exceptions.ChannelClosedByBroker:  # not declared yet: empty
                    depths[_kind(full)] = 0
                finally:
                    if channel.is_open:
                        channel.close()
    finally:
        connection.close()
    return depths


def _stub_depths(settings: Settings) -> dict[tuple[str, str], int]:
    broker = queue.get_broker(settings)
    queues: dict[str, Any] = getattr(broker, "queues", {})
    depths = {(name, kind): 0 for name in _queue_names(settings) for kind in ("ready", "delayed")}
    for full, messages in queues.items():
        depths[_kind(full)] = int(messages.qsize())
    return depths


# --- the collector ----------------------------------------------------------------------------


class ChorusCollector(Collector):
    """Reads jobs from the database and queue depth from the broker at every scrape."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("chorus_metrics_source_up",
                               "Whether a source of these metrics could be read (1) or not (0).",
                               labels=["source"])
        jobs = GaugeMetricFamily("chorus_jobs",
                                 "Jobs (database rows) by pipeline stage and state.",
                                 labels=["stage", "state"])
        try:
            for (stage, state), count in sorted(job_counts(self.settings).items()):
                jobs.add_metric([stage, state], count)
            up.add_metric(["database"], 1)
        except Exception as exc:
            log.warning("metrics: could not count jobs in the database: %s", exc)
            up.add_metric(["database"], 0)
        yield jobs

        depth = GaugeMetricFamily("chorus_queue_messages",
                                  "Messages waiting in the broker, by queue and kind "
                                  "(ready, delayed for a retry, dead).",
                                  labels=["queue", "kind"])
        try:
            for (name, kind), count in sorted(queue_depths(self.settings).items()):
                depth.add_metric([name, kind], count)
            up.add_metric(["broker"], 1)
        except Exception as exc:
            log.warning("metrics: could not read queue depth from the broker: %s", exc)
            up.add_metric(["broker"], 0)
        yield depth
        yield up


class _ProcessMetrics(Collector):
    """This process's own metrics (default registry: stage durations, process, GC)."""

    def collect(self) -> Iterable[Metric]:
        yield from REGISTRY.collect()


def make_registry(settings: Settings) -> CollectorRegistry:
    """A registry for one app: its database/broker collector plus the process's metrics.

    Per app rather than global, so several apps (tests, reloads) never register twice.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ChorusCollector(settings))
    registry.register(_ProcessMetrics())
    return registry
