"""A restart of the embedded default mid-compile finishes the compile, with one set of outputs.

The worker side runs in a child process (like `chorus serve`); it is SIGKILLed while the
compile is rendering (nothing is flushed, no handler runs: the process simply dies), then a new
child starts, `resume_due_work` finds the compile still marked running and runs it again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.db import dispose_engines, get_engine, unit_of_work
from service.models import Base, Compile, CompileClip
from service.storage import get_store
from tests.fixtures import service_rows as rows
from tests.fixtures.media import make_clip
from tests.integration.compile_env import env_vars

pytestmark = [pytest.mark.media, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def _child(settings_fields: dict[str, object], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **env_vars(settings_fields)}
    return subprocess.Popen([sys.executable, "-m", "tests.integration.compile_child"],
                            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _state(settings, compile_id: str) -> tuple[str, float, int]:
    with unit_of_work(settings) as s:
        row = s.get(Compile, compile_id)
        return row.status, row.progress, row.attempts


def test_restart_mid_compile_resumes_and_finishes_once(tmp_path: Path) -> None:
    fields: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'chorus.db'}",
        "data_dir": tmp_path / "var", "storage_root": tmp_path / "var" / "objects",
        "worker_threads": 1,
    }
    settings = rows.make_settings(tmp_path)
    Base.metadata.create_all(get_engine(settings))
    store = get_store(settings)
    clips = [make_clip(tmp_path / f"c{i}.mp4", size=(640, 360), speech_text=text)
             for i, text in enumerate(("Stay at home. Protect the NHS.", "Save lives today."))]
    with unit_of_work(settings) as s:
        camp = rows.campaign(s, rows.organisation(s))
        for file in clips:
            rows.clip(s, store, camp, file)
        comp = Compile(campaign_id=camp.id, formats=["landscape"], status="queued")
        s.add(comp)
    log = tmp_path / "child.log"

    first = _child(fields, log)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status, progress, _ = _state(settings, comp.id)
            if status == "running" and progress >= 0.15:
                break
            assert first.poll() is None, log.read_text()
            time.sleep(0.2)
        else:
            raise AssertionError("the compile never got going: " + log.read_text())
        os.killpg(first.pid, signal.SIGKILL)  # the process dies mid-render
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    status, progress, attempts = _state(settings, comp.id)
    assert status == "running" and progress < 1 and attempts == 1
    assert not (Path(fields["storage_root"]) / "compiles" / comp.id).exists()  # type: ignore[arg-type]

    second = _child(fields, log)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status, progress, attempts = _state(settings, comp.id)
            if status in ("done", "failed"):
                break
            assert second.poll() is None, log.read_text()
            time.sleep(0.3)
        # "done" is committed before the work folder is removed: on a busy machine the child
        # must not be killed in between, so wait (bounded) for the clean-up too.
        work = Path(fields["data_dir"]) / "work"  # type: ignore[arg-type]
        cleaned = time.monotonic() + 60
        while (list(work.glob(f"*/compiles/{comp.id}")) and time.monotonic() < cleaned
               and second.poll() is None):
            time.sleep(0.2)
    finally:
        os.killpg(second.pid, signal.SIGKILL)
        second.wait(10)
    assert status == "done", log.read_text()
    assert attempts == 2
    with unit_of_work(settings) as s:
        row = s.get(Compile, comp.id)
        recorded = sorted(o["name"] for o in row.outputs)
        assert all(cc.status == "done" for cc in
                   s.query(CompileClip).filter_by(compile_id=comp.id))
    folder = Path(fields["storage_root"]) / "compiles" / comp.id  # type: ignore[arg-type]
    stored = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert stored == recorded  # exactly one set of outputs, nothing half-written beside it
    assert len([n for n in stored if n.startswith("video-")]) == 1
    assert not list(work.glob(f"*/compiles/{comp.id}"))  # cleaned up once done (any process)
    dispose_engines()
