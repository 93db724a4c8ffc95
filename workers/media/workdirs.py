"""Scratch folders that belong to one process, so a process killed mid-work leaves nothing.

A worker killed with ``kill -9`` runs no ``finally``: its work folders and temporary files
stay. Every process therefore keeps its scratch under a folder named after itself
(``<host>-<pid>-<start time>``) inside a known root, and on start removes the folders of
processes on this host that no longer run. The start time tells a dead process from a new one
that happens to reuse its pid. Folders of other hosts (a shared volume) are left alone.

:func:`use_private_tempdir` points Python's :mod:`tempfile` at such a folder too, so
``TemporaryFile``/``mkstemp`` calls without a ``dir`` (the ffmpeg wrapper's stderr, previews)
land where the next start can find them.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

_NAME = re.compile(r"(?P<host>.+)-(?P<pid>\d+)-(?P<start>\d+)")
_SYSTEM_TMP = tempfile.gettempdir()  # read before use_private_tempdir() changes it
_cleaned: set[str] = set()
_lock = threading.Lock()


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19])  # field 22 of the whole line


def _alive(pid: int, start: int) -> bool:
    if Path("/proc").is_dir():
        return _start_time(pid) == start
    try:  # pragma: no cover - not Linux: the pid alone decides
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_tag() -> str:
    """``<host>-<pid>-<start time>`` of this process."""
    pid = os.getpid()
    return f"{socket.gethostname()}-{pid}-{_start_time(pid) or 0}"


def clean_stale(base: Path) -> list[Path]:
    """Remove the folders under ``base`` of processes on this host that no longer run."""
    removed: list[Path] = []
    if not base.is_dir():
        return removed
    host = socket.gethostname()
    for entry in base.iterdir():
        match = _NAME.fullmatch(entry.name)
        if match is None or match["host"] != host:
            continue
        if _alive(int(match["pid"]), int(match["start"])):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    if removed:
        log.info("removed %d scratch folders left by stopped processes under %s",
                 len(removed), base)
    return removed


def process_dir(base: Path) -> Path:
    """This process's folder under ``base`` (made private); the first call per ``base`` in a
    process also removes the folders left by dead ones."""
    base = Path(base)
    key = str(base.resolve())
    with _lock:
        if key not in _cleaned:
            _cleaned.add(key)
            clean_stale(base)
    path = base / process_tag()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def temp_base() -> Path:
    """The root of every process's temporary folder (``CHORUS_TMPDIR``, else the system's)."""
    return Path(os.environ.get("CHORUS_TMPDIR") or _SYSTEM_TMP) / "chorus-tmp"


def use_private_tempdir() -> Path:
    """Send this process's anonymous temporary files to its own folder; return that folder."""
    path = process_dir(temp_base())
    tempfile.tempdir = str(path)
    return path


def prepare_process(work_base: Path) -> None:
    """What a worker or server does on start: its own temp folder, and no dead process's
    scratch left under ``work_base`` or the temp root."""
    use_private_tempdir()
    process_dir(Path(work_base))
