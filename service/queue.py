"""The Dramatiq broker, chosen by settings (infrastructure, like ``db.py``).

``inprocess`` (the default) is Dramatiq's ``StubBroker``: messages live in this process's
memory and an embedded ``dramatiq.Worker`` inside ``chorus serve`` consumes them. Nothing is
lost when the process dies, because the database holds every job's state and
``service.jobs.resume_due_work`` re-enqueues unfinished work on start. ``redis`` and
``rabbitmq`` select Dramatiq's real brokers (``broker_url``) for the distributed set-up, where
``chorus worker`` processes consume and ``chorus serve`` only sends.

Messages are sent by actor *name* (``"clip.probe"``), so the web side never imports an actor:
:data:`ACTOR_QUEUES` says which queue each name lives on, and the workers declare the actors
themselves (see ``workers/actors.py``). Queues per entity let a deployment run separate worker
pools for quick probes and long compiles.
"""

from __future__ import annotations

import threading
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from service.settings import Settings

ACTOR_QUEUES: dict[str, str] = {
    "clip.probe": "clips",
    "compile.run": "compiles",
}
"""Every actor name the service may send to, and its queue."""

ACTOR_MODULES: tuple[str, ...] = ("workers.actors",)
"""Modules that declare the actors (imported by name by whoever runs workers)."""

PROBE_TIME_LIMIT_MS = 5 * 60 * 1000
COMPILE_TIME_LIMIT_MS = 3 * 60 * 60 * 1000
MAX_RETRIES = 3
MIN_BACKOFF_MS = 2_000
MAX_BACKOFF_MS = 60_000

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


def make_broker(settings: Settings) -> dramatiq.Broker:
    """A new broker for the settings (every queue declared, CurrentMessage middleware on)."""
    broker: dramatiq.Broker
    if settings.broker == "inprocess":
        broker = StubBroker()
    elif settings.broker == "redis":
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=settings.broker_url or "redis://127.0.0.1:6379/0")
    elif settings.broker == "rabbitmq":
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=settings.broker_url or "amqp://guest:guest@127.0.0.1:5672/")
    else:  # pragma: no cover - Settings validates the literal
        raise ValueError(f"unknown broker {settings.broker!r}")
    broker.add_middleware(CurrentMessage())
    for queue_name in sorted(set(ACTOR_QUEUES.values())):
        broker.declare_queue(queue_name)
    return broker


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


def send(broker: dramatiq.Broker, actor_name: str, kwargs: dict[str, Any]) -> dramatiq.Message[Any]:
    """Put one message for ``actor_name`` on its queue, without importing the actor."""
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue_for(actor_name),
        actor_name=actor_name,
        args=(),
        kwargs=kwargs,
        options={},
    )
    return broker.enqueue(message)
