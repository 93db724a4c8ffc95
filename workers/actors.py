"""Thin Dramatiq actors: each takes ids, calls one stage, and nothing else.

Actors are declared on a given broker by :func:`declare_actors` (called by whoever runs
workers: ``service.jobs.start_embedded_workers`` inside ``chorus serve``, or each ``chorus
worker`` process through :func:`boot`) rather than at import time on a global broker, so tests
and processes choose their broker and settings explicitly. Names and queues come from
``service.queue.ACTOR_QUEUES``, the same table the web side sends by; time limits and retries
come from settings.

A stage that finds its row held by a live worker returns :class:`~workers.stages.common.Busy`:
the actor sends the same message again, delayed until the holder's lease would lapse, so a
message redelivered after a worker died is never dropped while the dead worker's claim ages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dramatiq

from service import queue
from service.settings import Settings, get_settings
from workers.media.workdirs import prepare_process
from workers.stages import compile as compile_stage
from workers.stages import join as join_stage
from workers.stages import prepare as prepare_stage
from workers.stages import probe as probe_stage
from workers.stages.common import Busy

log = logging.getLogger(__name__)


def _actor_table(settings: Settings, broker: dramatiq.Broker
                 ) -> dict[str, tuple[Callable[..., None], dict[str, Any]]]:
    """Each actor name: the function to run and its Dramatiq options."""

    def later(actor_name: str, kwargs: dict[str, str], outcome: object) -> None:
        if isinstance(outcome, Busy):
            delay = max(1000, int(outcome.seconds * 1000))
            log.info("%s %s is held by a live worker; looking again in %d ms",
                     actor_name, kwargs, delay)
            queue.send(broker, actor_name, kwargs, prefix=settings.queue_prefix, delay_ms=delay)

    def clip_probe(clip_id: str) -> None:
        later("clip.probe", {"clip_id": clip_id}, probe_stage.run(clip_id, settings))

    def compile_run(compile_id: str) -> None:
        compile_stage.run(compile_id, settings)

    def clip_prepare(compile_clip_id: str) -> None:
        later("clip.prepare", {"compile_clip_id": compile_clip_id},
              prepare_stage.run(compile_clip_id, settings))

    def compile_join(compile_id: str) -> None:
        later("compile.join", {"compile_id": compile_id}, join_stage.run(compile_id, settings))

    retries = {
        "max_retries": settings.stage_max_retries,
        "min_backoff": settings.retry_min_backoff_ms,
        "max_backoff": settings.retry_max_backoff_ms,
    }
    functions: dict[str, Callable[..., None]] = {
        "clip.probe": clip_probe,
        "clip.prepare": clip_prepare,
        "compile.run": compile_run,
        "compile.join": compile_join,
    }
    return {name: (fn, {"time_limit": queue.time_limit_ms(settings, name), **retries})
            for name, fn in functions.items()}


def declare_actors(broker: dramatiq.Broker, settings: Settings) -> None:
    """Declare every actor on ``broker`` (a second call for the same broker does nothing)."""
    for name, (fn, options) in _actor_table(settings, broker).items():
        if name in broker.actors:
            continue
        decorate = dramatiq.actor(
            actor_name=name, queue_name=queue.queue_name(settings, name), broker=broker,
            **options,
        )
        decorate(fn)


def boot() -> None:
    """Entry point of a ``chorus worker`` process (``dramatiq workers.actors:boot``).

    Builds the broker from settings, checks that timeouts agree, and declares the actors.
    """
    settings = get_settings()
    prepare_process(Path(settings.data_dir) / "work")
    queue.check_consistency(settings)
    broker = queue.get_broker(settings)
    declare_actors(broker, settings)
    queue.start_keeper(broker, settings)
