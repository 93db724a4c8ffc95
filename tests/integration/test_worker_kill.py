"""kill -9 of a worker mid-render leaves no ffmpeg running and, after a restart, no file.

ffmpeg runs in its own session (so a timeout can kill its whole group), which used to let it
outlive its worker: now it is tied to it with PR_SET_PDEATHSIG. A killed worker runs no
clean-up code, so its work folder and temporary files stay until the next worker starts and
removes the folders of processes that no longer run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from tests.integration.compile_env import env_vars

pytestmark = pytest.mark.media
ROOT = Path(__file__).resolve().parents[2]


def _ffmpegs(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if "ffmpeg" in (proc.info["name"] or "") and \
                    any(marker in part for part in proc.info["cmdline"] or []):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_kill_9_leaves_no_orphan_ffmpeg_and_no_stray_file(tmp_path: Path) -> None:
    marker = f"killtest-{uuid.uuid4().hex[:8]}"
    data, tmp = tmp_path / "var", tmp_path / "tmp"
    env = {**os.environ, **env_vars({"data_dir": data,
                                     "database_url": f"sqlite:///{tmp_path / 'c.db'}"}),
           "CHORUS_TMPDIR": str(tmp)}
    child = subprocess.Popen([sys.executable, "-m", "tests.integration.ffmpeg_child", "render",
                              marker], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"rendering"
        deadline = time.monotonic() + 20
        while not _ffmpegs(marker):
            assert time.monotonic() < deadline, "ffmpeg never started"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)  # the worker only: ffmpeg is in its own session
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    deadline = time.monotonic() + 5
    while _ffmpegs(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphans = _ffmpegs(marker)
    for proc in orphans:
        proc.kill()
    assert not orphans, f"ffmpeg outlived its worker: {[p.pid for p in orphans]}"

    left = _files(data / "work") + _files(tmp)
    assert any(p.name == "partial.wav" for p in left), "the test did not reach the render"
    assert any(p.name.startswith("chorus-test-") for p in left)

    again = subprocess.run([sys.executable, "-m", "tests.integration.ffmpeg_child", "start"],
                           cwd=ROOT, env=env, capture_output=True, timeout=60)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _files(data / "work") == [] and _files(tmp) == [], \
        _files(data / "work") + _files(tmp)
