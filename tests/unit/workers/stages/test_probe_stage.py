"""clip.probe on real files: a phone clip becomes ready; a non-video fails with a code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.db import unit_of_work
from service.models import Clip
from tests.fixtures import service_rows as rows
from tests.fixtures.media import make_clip, not_media
from tests.fixtures.service_env import Env, service_env
from workers.stages import probe as stage


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with service_env(tmp_path) as built:
        yield built


def test_probe_marks_a_good_clip_ready_and_is_idempotent(env: Env, media_dir: Path) -> None:
    src = make_clip(media_dir / "probe-ok.mp4", size=(320, 568), rotate=90,
                    speech_text="Stay at home.")
    with unit_of_work(env.settings) as s:
        camp = rows.campaign(s, rows.organisation(s))
        clip = rows.clip(s, env.store, camp, src, status="received", consent=False)
    assert stage.run(clip.id, env.settings) == "ready"
    with unit_of_work(env.settings) as s:
        row = s.get(Clip, clip.id)
        assert row.status == "ready" and row.error_code is None
        assert 1.5 < row.duration < 6
        assert row.probe["video"]["rotation"] == 90 and row.probe["problems"] == []
    assert stage.run(clip.id, env.settings) is None  # already probed: nothing to do


def test_probe_fails_a_non_video_with_a_stable_code(env: Env, tmp_path: Path) -> None:
    bad = not_media(tmp_path / "letter.mp4")
    with unit_of_work(env.settings) as s:
        camp = rows.campaign(s, rows.organisation(s))
        clip = rows.clip(s, env.store, camp, bad, status="received", consent=False)
    assert stage.run(clip.id, env.settings) == "failed"
    with unit_of_work(env.settings) as s:
        row = s.get(Clip, clip.id)
        assert row.status == "failed" and row.error_code == "not_media"


def test_probe_judges_length_by_settings(env: Env, media_dir: Path) -> None:
    env.settings.max_clip_seconds = 1
    src = make_clip(media_dir / "probe-long.mp4", speech_text=None, duration=3.0)
    with unit_of_work(env.settings) as s:
        camp = rows.campaign(s, rows.organisation(s))
        clip = rows.clip(s, env.store, camp, src, status="received", consent=False)
    assert stage.run(clip.id, env.settings) == "failed"
    with unit_of_work(env.settings) as s:
        assert s.get(Clip, clip.id).error_code == "too_long"


def test_two_deliveries_of_one_probe_never_run_at_once(env: Env, media_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`chorus demo` sends clip.probe at upload and again when it resumes due work."""
    import threading
    import time

    from workers.stages.common import Busy

    src = make_clip(media_dir / "probe-twice.mp4", speech_text=None, duration=2.0)
    with unit_of_work(env.settings) as s:
        camp = rows.campaign(s, rows.organisation(s))
        clip = rows.clip(s, env.store, camp, src, status="received", consent=False)
    real = stage.probe
    running = 0
    most = 0
    calls = 0
    guard = threading.Lock()

    def slow_probe(path: Path, policy: object) -> object:
        nonlocal running, most, calls
        with guard:
            running += 1
            calls += 1
            most = max(most, running)
        time.sleep(0.6)
        try:
            return real(path, policy)  # type: ignore[arg-type]
        finally:
            with guard:
                running -= 1

    monkeypatch.setattr(stage, "probe", slow_probe)
    outcomes: list[object] = []
    threads = [threading.Thread(target=lambda: outcomes.append(stage.run(clip.id, env.settings)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == 1 and most == 1
    assert "ready" in outcomes
    assert any(isinstance(o, Busy) for o in outcomes), outcomes
    assert stage.run(clip.id, env.settings) is None
