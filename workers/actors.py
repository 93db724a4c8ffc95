"""Thin Dramatiq actors: each takes ids, calls one stage, and nothing else.

Actors are declared on a given broker by :func:`declare_actors` (called by whoever runs
workers: ``service.jobs.start_embedded_workers`` inside ``chorus serve``, or ``chorus worker``)
rather than at import time on a global broker, so tests and processes choose their broker and
settings explicitly. Names and queues come from ``service.queue.ACTOR_QUEUES``, the same table
the web side sends by.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq

from service import queue
from service.settings import Settings
from workers.stages import compile as compile_stage
from workers.stages import probe as probe_stage


def _actor_table(settings: Settings) -> dict[str, tuple[Callable[..., None], dict[str, Any]]]:
    """Each actor name: the function to run and its Dramatiq options."""

    def clip_probe(clip_id: str) -> None:
        probe_stage.run(clip_id, settings)

    def compile_run(compile_id: str) -> None:
        compile_stage.run(compile_id, settings)

    retries = {
        "max_retries": queue.MAX_RETRIES,
        "min_backoff": queue.MIN_BACKOFF_MS,
        "max_backoff": queue.MAX_BACKOFF_MS,
    }
    return {
        "clip.probe": (clip_probe, {"time_limit": queue.PROBE_TIME_LIMIT_MS, **retries}),
        "compile.run": (compile_run, {"time_limit": queue.COMPILE_TIME_LIMIT_MS, **retries}),
    }


def declare_actors(broker: dramatiq.Broker, settings: Settings) -> None:
    """Declare every actor on ``broker`` (a second call for the same broker does nothing)."""
    for name, (fn, options) in _actor_table(settings).items():
        if name in broker.actors:
            continue
        decorate = dramatiq.actor(
            actor_name=name, queue_name=queue.queue_for(name), broker=broker, **options
        )
        decorate(fn)
