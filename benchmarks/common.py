"""Shared helpers for the benchmarks: a process-tree memory sampler and timed runs.

Peak memory is the maximum, over time, of the SUM of the resident set sizes of a process and
all its descendants (ffmpeg children included), sampled every ~50 ms with psutil. Sampling can
miss a spike shorter than the interval; for encoders whose memory grows and stays up for
seconds that error is small.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psutil

MB = 1024 * 1024


class TreeSampler:
    """Sample RSS of ``pid``'s process tree in a thread; ``peak`` is the max of the sum.

    ``include_root=False`` counts only descendants (used when the root is this very
    benchmark process, whose own memory is not part of what is measured).
    """

    def __init__(self, pid: int, *, interval: float = 0.05, include_root: bool = True):
        self.root = psutil.Process(pid)
        self.interval = interval
        self.include_root = include_root
        self.peak = 0
        self.peak_single_child = 0
        self.max_children = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        total = 0
        try:
            procs = self.root.children(recursive=True)
            if self.include_root:
                total += self.root.memory_info().rss
        except psutil.Error:
            return
        alive = 0
        for proc in procs:
            try:
                rss = proc.memory_info().rss
            except psutil.Error:
                continue
            alive += 1
            total += rss
            self.peak_single_child = max(self.peak_single_child, rss)
        self.max_children = max(self.max_children, alive)
        self.peak = max(self.peak, total)
        self.samples += 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    """One measured run: wall time, peak tree memory, load before and after."""

    label: str
    wall_s: float
    peak_mb: float
    peak_child_mb: float
    max_children: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    returncode: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label, "wall_s": round(self.wall_s, 2),
            "peak_mb": round(self.peak_mb, 1), "peak_child_mb": round(self.peak_child_mb, 1),
            "max_children": self.max_children,
            "load_before": [round(x, 2) for x in self.load_before],
            "load_after": [round(x, 2) for x in self.load_after],
            "returncode": self.returncode, **self.extra,
        }


def run_measured(label: str, cmd: Sequence[str], *, cwd: str | None = None,
                 log: str | None = None, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` as a subprocess (so its start-up is counted) while sampling its tree."""
    load_before = os.getloadavg()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=out, stderr=out, env=env)
        with TreeSampler(proc.pid) as sampler:
            proc.wait()
        wall = time.perf_counter() - started
    finally:
        if log and not isinstance(out, int):
            out.close()
    return Run(label, wall, sampler.peak / MB, sampler.peak_single_child / MB,
               sampler.max_children, load_before, os.getloadavg(), proc.returncode)
