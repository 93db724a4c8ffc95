"""Progress of a compile: per-item fractions turned into events with an overall fraction.

Events are plain dicts (``item``, ``fraction``, ``overall`` and what the caller adds, such as
``stage``, ``clip`` and ``format``), so a terminal bar, a stage's heartbeat and a test read
the same thing. Callers read the fields; nobody parses the ``item`` label.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

ProgressSink = Callable[[dict[str, Any]], None]


class Progress:
    """Weighted, monotonic, thread-safe progress (engine threads update it at once)."""

    def __init__(self, sink: ProgressSink | None):
        self.sink = sink
        self.lock = threading.Lock()
        self.weights: dict[str, float] = {}
        self.done: dict[str, float] = {}

    @classmethod
    def of(cls, sink: ProgressSink | Progress | None) -> Progress:
        """``sink`` itself when it already is a tracker, else a tracker feeding it."""
        return sink if isinstance(sink, Progress) else cls(sink)

    def __call__(self, event: dict[str, Any]) -> None:
        if self.sink is not None:
            self.sink(event)

    def plan(self, item: str, weight: float) -> None:
        self.weights[item] = max(weight, 1e-6)
        self.done.setdefault(item, 0.0)

    def update(self, item: str, fraction: float, **info: Any) -> None:
        if self.sink is None:
            return
        with self.lock:
            self.done[item] = min(1.0, max(self.done.get(item, 0.0), fraction))
            total = sum(self.weights.values()) or 1.0
            overall = sum(self.weights[k] * self.done.get(k, 0.0) for k in self.weights) / total
            event = {"item": item, "fraction": round(self.done[item], 4),
                     "overall": round(overall, 4), **info}
            self.sink(event)
