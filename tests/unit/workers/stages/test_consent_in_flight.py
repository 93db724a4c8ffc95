"""Work in flight stops when consent is withdrawn: nothing rendered meanwhile is stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service.db import unit_of_work
from service.models import Compile, CompileClip, Consent, ObjectLineage, utcnow
from tests.fixtures import service_rows as rows
from tests.fixtures.service_env import Env, service_env
from workers.media import compile as media_compile
from workers.stages import prepare as prepare_stage


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with service_env(tmp_path) as built:
        yield built


def test_a_clip_withdrawn_while_it_renders_is_dropped_not_stored(env: Env, monkeypatch) -> None:
    fake = Path(env.settings.data_dir) / "clip.mp4"
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_bytes(b"placeholder")
    with unit_of_work(env.settings) as s:
        camp = rows.campaign(s, rows.organisation(s))
        clip = rows.clip(s, env.store, camp, fake)
        comp = Compile(campaign_id=camp.id, formats=["landscape"], status="running")
        s.add(comp)
        s.flush()
        cc = CompileClip(compile_id=comp.id, clip_id=clip.id, status="queued")
        s.add(cc)
        s.flush()
        cc_id, clip_id = cc.id, clip.id
    segment = Path(env.settings.data_dir) / "seg.mov"
    segment.write_bytes(b"rendered")

    def fake_prepare(*args: Any, **kwargs: Any) -> Any:
        return object()

    def render_then_withdraw(*args: Any, **kwargs: Any) -> list[Any]:
        with unit_of_work(env.settings) as s:  # the person withdraws mid-render
            s.query(Consent).filter_by(clip_id=clip_id).update({"withdrawn_at": utcnow()})
        return [type("Seg", (), {"key": "f" * 64, "path": segment})()]

    monkeypatch.setattr(media_compile, "prepare", fake_prepare)
    monkeypatch.setattr(media_compile, "render_clip", render_then_withdraw)
    assert prepare_stage.run(cc_id, env.settings) == "skipped"
    with unit_of_work(env.settings) as s:
        row = s.get(CompileClip, cc_id)
        assert (row.status, row.error_code) == ("skipped", "no_consent")
        assert s.scalars(select(ObjectLineage)).all() == []
    assert not env.store.exists("segments/" + "f" * 64 + ".mov")
