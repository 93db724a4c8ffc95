"""The states of a compile and of each of its clips (the values stored in ``status``).

A compile: ``queued`` → ``running`` (its clips are prepared, in parallel) → ``joining`` (one
worker assembles the outputs) → ``done``, or ``failed`` from any of them. A compile's clip:
``queued`` → ``running`` → ``done`` or ``failed``; ``skipped`` when its consent was withdrawn
after the compile was asked for. The transitions are in :mod:`service.renders.state`.
"""

from __future__ import annotations

from enum import StrEnum


class CompileStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    JOINING = "joining"
    DONE = "done"
    FAILED = "failed"


class ClipStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


UNFINISHED_CLIP = (ClipStatus.QUEUED, ClipStatus.RUNNING)
"""A clip still to prepare: the compile cannot join while one is left."""
DUE_COMPILE = (CompileStatus.QUEUED, CompileStatus.RUNNING, CompileStatus.JOINING)
"""A compile a restart must send on again."""
