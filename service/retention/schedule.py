"""Running the retention sweep on a timer inside a long-lived process (``chorus worker``).

A daemon thread: first sweep a short, random while after start (replicas started together do
not all sweep at once), then every ``retention_interval_minutes``. A failed sweep is logged
and tried again next time; it never stops the worker. Several replicas sweeping at once is
harmless: an erasure that loses a race rolls back and the next sweep finds nothing left.
"""

from __future__ import annotations

import logging
import random
import threading

from service.db import unit_of_work
from service.models import utcnow
from service.settings import Settings

log = logging.getLogger(__name__)


def run_once(settings: Settings) -> int:
    """One sweep in its own transaction; how many items were due."""
    from service.retention.service import sweep
    from service.storage import get_store

    with unit_of_work(settings) as session:
        return len(sweep(session, settings, get_store(settings), utcnow()).due)


class RetentionTimer(threading.Thread):
    """The periodic sweep; ``stop()`` ends it at the next wake-up."""

    def __init__(self, settings: Settings, first_delay: float | None = None) -> None:
        super().__init__(name="retention", daemon=True)
        self.settings = settings
        self.first_delay = random.uniform(30.0, 120.0) if first_delay is None else first_delay
        self.runs = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        interval = self.settings.retention_interval_minutes * 60.0
        if self._stop_event.wait(self.first_delay):
            return
        while True:
            try:
                run_once(self.settings)
                self.runs += 1
            except Exception:
                log.exception("retention sweep failed; it runs again in %.0f s", interval)
            if self._stop_event.wait(interval):
                return

    def stop(self) -> None:
        self._stop_event.set()


def start(settings: Settings, first_delay: float | None = None) -> RetentionTimer | None:
    """Start the timer unless ``retention_interval_minutes`` is 0 (then the CronJob runs it)."""
    if settings.retention_interval_minutes <= 0:
        return None
    timer = RetentionTimer(settings, first_delay)
    timer.start()
    return timer
