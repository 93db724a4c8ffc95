"""Progress events: per item and overall, monotonic, ending at 1 (what bars and pages show)."""

from __future__ import annotations

import io
from typing import Any

from workers.media.compile_cli import TerminalProgress
from workers.media.progress import Progress


def test_overall_is_weighted_monotonic_and_reaches_one() -> None:
    events: list[dict[str, Any]] = []
    tracker = Progress(events.append)
    tracker.plan("prepare:1", 1.0)
    tracker.plan("clip1:landscape", 3.0)
    tracker.update("prepare:1", 1.0, stage="prepare", clip=1)
    assert events[-1]["overall"] == 0.25
    tracker.update("clip1:landscape", 0.5, stage="render")
    tracker.update("clip1:landscape", 0.4, stage="render")  # late, smaller: never goes back
    assert events[-1]["fraction"] == 0.5
    tracker.update("clip1:landscape", 1.0, stage="render")
    overall = [e["overall"] for e in events]
    assert overall == sorted(overall) and overall[-1] == 1.0
    assert {e["stage"] for e in events} == {"prepare", "render"}


def test_terminal_bars_one_per_clip_and_overall(monkeypatch: Any) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    bars = TerminalProgress({1: "ur Imran Qureshi", 2: "pl Anna Nowak"})
    bars({"item": "prepare:1", "fraction": 1.0, "overall": 0.2, "stage": "prepare", "clip": 1})
    bars({"item": "clip2:landscape", "fraction": 0.5, "overall": 0.6, "stage": "render",
          "clip": 2, "format": "landscape"})
    assert set(bars.bars) == {"prepare:1", "clip2:landscape"}
    bars.close()
    text = err.getvalue()
    assert "overall" in text and "pl Anna Nowak [landscape]" in text
