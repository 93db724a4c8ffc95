"""The Dramatiq broker, chosen by settings (infrastructure, like ``db.py``).

``inprocess`` (the default) is Dramatiq's ``StubBroker``: messages live in this process's
memory and an embedded ``dramatiq.Worker`` inside ``chorus serve`` consumes them. Nothing is
lost when the process dies, because the database holds every job's state and
``service.jobs.resume_due_work`` re-enqueues unfinished work on start. ``redis`` and
``rabbitmq`` select Dramatiq's real brokers (``broker_url``) for the distributed set-up, where
``chorus worker`` processes consume and ``chorus serve`` only sends.

Messages are sent by actor *name* (``"clip.probe"``), so the web side never imports an actor:
:data:`ACTOR_QUEUES` says which queue each name lives on, and the workers declare the actors
themselves (see ``workers/actors.py``). Queues per kind of work let a deployment run separate
worker pools for quick probes, clip renders and joins. ``queue_prefix`` lets several
deployments (or test runs) share one Redis or RabbitMQ.

A dead worker's messages come back by themselves, within a bound set here:

* Redis: Dramatiq requeues the unacknowledged messages of a worker whose heartbeat is older
  than ``redis_heartbeat_timeout_ms``, but only while running its "maintenance", which a
  broker command triggers with probability ``redis_maintenance_chance`` per million. Every
  worker polls each queue at least every :data:`WORKER_POLL_MS` (and each poll is a heartbeat),
  so with the default chance of 1e6 a dead worker's message is back after at most
  ``heartbeat_timeout + WORKER_POLL_MS``. :class:`RedisKeeper` makes "each poll" true even
  for a worker whose threads are all busy. (Dramatiq's own default, 1000 per million, would
  take around a thousand polls: tens of minutes.)
* RabbitMQ: the server requeues unacknowledged deliveries as soon as the connection drops.

Then the stage's own lease (``stage_lease_seconds`` in the database) decides who may take the
row over; :func:`check_consistency` refuses settings where these do not fit together.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from service.settings import Settings

ACTOR_QUEUES: dict[str, str] = {
    "clip.probe": "clips",
    "clip.prepare": "renders",
    "compile.run": "compiles",
    "compile.join": "compiles",
}
"""Every actor name the service may send to, and its queue (before ``queue_prefix``)."""

ACTOR_MODULES: tuple[str, ...] = ("workers.actors",)
"""Modules that declare the actors (imported by name by whoever runs workers)."""

MAX_RETRIES = 3
"""Default retries (``Settings.stage_max_retries`` is the one in force)."""
WORKER_POLL_MS = 1_000
"""Dramatiq's worker_timeout: the longest a consumer waits between polls (= heartbeats)."""
HEARTBEAT_SECONDS = 1.0
"""How often a running stage renews its heartbeat (and writes progress) in the database."""
MIN_HEARTBEATS_PER_TIMEOUT = 5
"""A timeout must cover this many missed heartbeats before declaring a worker dead."""
COMPILE_RUN_TIME_LIMIT_MS = 5 * 60 * 1000
"""``compile.run`` only reads rows and sends messages."""

log = logging.getLogger(__name__)
_lock = threading.Lock()
_broker: dramatiq.Broker | None = None


class UnknownActorError(ValueError):
    """A message was addressed to an actor name the service does not know."""


def queue_for(actor_name: str) -> str:
    """The queue an actor name lives on; unknown names are a programming error."""
    try:
        return ACTOR_QUEUES[actor_name]
    except KeyError:
        raise UnknownActorError(
            f"no actor named {actor_name!r}; known: {', '.join(sorted(ACTOR_QUEUES))}"
        ) from None


def queue_name(settings: Settings, actor_name: str) -> str:
    """The full queue name of an actor for these settings (with ``queue_prefix``)."""
    return f"{settings.queue_prefix}{queue_for(actor_name)}"


def queue_names(settings: Settings) -> list[str]:
    """Every queue the workers consume, with ``queue_prefix`` (for metrics and clean-up)."""
    return sorted({f"{settings.queue_prefix}{q}" for q in ACTOR_QUEUES.values()})


def time_limit_ms(settings: Settings, actor_name: str) -> int:
    """The time limit of one stage from settings (Dramatiq kills the stage after it)."""
    seconds = {
        "clip.probe": settings.probe_time_limit_seconds,
        "clip.prepare": settings.prepare_time_limit_seconds,
        "compile.join": settings.join_time_limit_seconds,
    }.get(actor_name)
    return COMPILE_RUN_TIME_LIMIT_MS if seconds is None else seconds * 1000


class BrokerConfigError(RuntimeError):
    """Broker timeouts, stage time limits and leases that do not fit together."""


def check_consistency(settings: Settings) -> None:
    """Refuse settings under which a live worker would lose its work or a dead one keep it.

    * the stage lease must cover several heartbeats, or a busy but live worker's stage would
      be taken over by another worker;
    * Redis: ``heartbeat_timeout`` must cover several polls (each poll is a heartbeat), or
      Dramatiq would requeue a live worker's messages;
    * RabbitMQ: a delivery stays unacknowledged while it waits in the worker's prefetch (up to
      one other stage) and while it runs, so twice the longest stage limit must stay under the
      server's ``consumer_timeout``, which would otherwise cancel the consumer mid-render;
    * retry backoff must be ordered.
    """
    problems: list[str] = []
    min_lease = HEARTBEAT_SECONDS * MIN_HEARTBEATS_PER_TIMEOUT
    if settings.stage_lease_seconds < min_lease:
        problems.append(
            f"CHORUS_STAGE_LEASE_SECONDS={settings.stage_lease_seconds:g} is too short: a stage "
            f"renews its heartbeat every {HEARTBEAT_SECONDS:g} s, so the lease must be at least "
            f"{min_lease:g} s or live work would be taken over")
    if settings.retry_min_backoff_ms > settings.retry_max_backoff_ms:
        problems.append("CHORUS_RETRY_MIN_BACKOFF_MS is larger than CHORUS_RETRY_MAX_BACKOFF_MS")
    longest = max(time_limit_ms(settings, name) for name in ACTOR_QUEUES)
    if settings.broker == "redis":
        min_hb = WORKER_POLL_MS * MIN_HEARTBEATS_PER_TIMEOUT
        if settings.redis_heartbeat_timeout_ms < min_hb:
            problems.append(
                f"CHORUS_REDIS_HEARTBEAT_TIMEOUT_MS={settings.redis_heartbeat_timeout_ms} is too "
                f"short: workers heartbeat every {WORKER_POLL_MS} ms, so it must be at least "
                f"{min_hb} ms or Dramatiq would requeue a live worker's messages")
    if settings.broker == "rabbitmq" and 2 * longest >= settings.rabbitmq_consumer_timeout_ms:
        problems.append(
            f"the longest stage time limit ({longest // 1000} s) is more than half of RabbitMQ's "
            f"consumer_timeout (CHORUS_RABBITMQ_CONSUMER_TIMEOUT_MS="
            f"{settings.rabbitmq_consumer_timeout_ms}): a prefetched message could wait one "
            "stage and run another, and RabbitMQ would cancel the worker mid-render. Lower the "
            "stage limits or raise consumer_timeout on the server and in this setting")
    if problems:
        raise BrokerConfigError("inconsistent worker settings:\n  - " + "\n  - ".join(problems))


def requeue_bound_seconds(settings: Settings) -> float:
    """How long after a worker's death its stage is running again elsewhere (at most).

    The broker gives the message back (Redis: heartbeat timeout plus one poll; RabbitMQ: at
    once), then the stage row's lease must run out; a delivery that finds the lease still
    fresh is sent again when it will have run out (see ``workers/actors.py``).
    """
    broker_delay = 0.0
    if settings.broker == "redis":
        broker_delay = (settings.redis_heartbeat_timeout_ms + WORKER_POLL_MS) / 1000
    elif settings.broker == "rabbitmq":
        broker_delay = WORKER_POLL_MS / 1000
    return max(broker_delay, settings.stage_lease_seconds) + 2 * WORKER_POLL_MS / 1000


def make_broker(settings: Settings) -> dramatiq.Broker:
    """A new broker for the settings (every queue declared, CurrentMessage middleware on)."""
    broker: dramatiq.Broker
    if settings.broker == "inprocess":
        broker = StubBroker()
    elif settings.broker == "redis":
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(
            url=settings.broker_url or "redis://127.0.0.1:6379/0",
            heartbeat_timeout=settings.redis_heartbeat_timeout_ms,
            maintenance_chance=settings.redis_maintenance_chance,
        )
    elif settings.broker == "rabbitmq":
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=settings.broker_url or "amqp://guest:guest@127.0.0.1:5672/")
    else:  # pragma: no cover - Settings validates the literal
        raise ValueError(f"unknown broker {settings.broker!r}")
    broker.add_middleware(CurrentMessage())
    for name in queue_names(settings):
        broker.declare_queue(name)
    return broker


class RedisKeeper(threading.Thread):
    """Heartbeat and requeue maintenance on every queue, every :data:`WORKER_POLL_MS`.

    Dramatiq's Redis consumers heartbeat (and run maintenance) only when they poll, and a
    consumer whose prefetch is full does not poll: a worker busy with long renders could look
    dead (its messages stolen while it works), and a dead worker's messages would wait until a
    survivor had room. This thread issues a cheap ``qsize`` per queue, which heartbeats for
    the process and, with ``redis_maintenance_chance``, requeues dead workers' messages, so
    the bound in :func:`requeue_bound_seconds` holds however busy the survivors are.
    """

    def __init__(self, broker: dramatiq.Broker, settings: Settings):
        super().__init__(name="chorus-redis-keeper", daemon=True)
        self.broker, self.queues = broker, queue_names(settings)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(WORKER_POLL_MS / 1000):
            for name in self.queues:
                try:
                    self.broker.do_qsize(name)  # type: ignore[attr-defined]
                except Exception:  # Redis away for a moment: the consumers will say so
                    log.debug("redis keeper: qsize %s failed", name, exc_info=True)

    def stop(self) -> None:
        self.stopping.set()


def start_keeper(broker: dramatiq.Broker, settings: Settings) -> RedisKeeper | None:
    """Start a :class:`RedisKeeper` for a worker process on Redis (nothing on other brokers)."""
    if settings.broker != "redis":
        return None
    keeper = RedisKeeper(broker, settings)
    keeper.start()
    return keeper


def get_broker(settings: Settings) -> dramatiq.Broker:
    """The process-wide broker (made on first use and set as Dramatiq's global broker)."""
    global _broker
    with _lock:
        if _broker is None:
            _broker = make_broker(settings)
            dramatiq.set_broker(_broker)
        return _broker


def set_broker(broker: dramatiq.Broker | None) -> None:
    """Replace the process-wide broker (tests, and a worker process that made its own)."""
    global _broker
    with _lock:
        _broker = broker
        if broker is not None:
            dramatiq.set_broker(broker)


def is_embedded(settings: Settings) -> bool:
    """Whether workers run inside the web process (no external broker configured)."""
    return settings.broker == "inprocess"


def send(broker: dramatiq.Broker, actor_name: str, kwargs: dict[str, Any], *,
         prefix: str = "", delay_ms: int | None = None) -> dramatiq.Message[Any]:
    """Put one message for ``actor_name`` on its queue, without importing the actor.

    ``prefix`` is ``settings.queue_prefix``; ``delay_ms`` delivers it later (not before).
    """
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=f"{prefix}{queue_for(actor_name)}",
        actor_name=actor_name,
        args=(),
        kwargs=kwargs,
        options={},
    )
    return broker.enqueue(message, delay=delay_ms)
