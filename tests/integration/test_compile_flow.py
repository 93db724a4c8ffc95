"""A real compile through the in-process broker and embedded workers, end to end.

Two clips (English, Urdu) with real speech, approved with consent records, compiled by the
``compile.run`` actor on Dramatiq's in-process broker; every output stored (local disk or S3),
measured with ffprobe, and the Urdu captions found in the Urdu subtitles and the report.
Run on SQLite + local disk and on PostgreSQL + S3 (moto server).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from service import jobs, queue
from service.db import dispose_engines, get_engine, unit_of_work
from service.models import Base, Compile, CompileClip
from service.storage import get_store
from tests.fixtures import service_rows as rows
from tests.fixtures.media import ffprobe, make_clip
from tests.integration.compile_env import moto_s3, throwaway_postgres

pytestmark = [pytest.mark.media, pytest.mark.slow]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("flow-media")
    return {
        "en": make_clip(folder / "en.mp4", size=(640, 360), speech_text="Stay at home.",
                        lead_silence=0.3, tail_silence=0.4),
        "ur": make_clip(folder / "ur.webm", container="webm", vcodec="vp8", acodec="opus",
                        size=(360, 640), speech_text="گھر پر رہیں", voice="ur",
                        lead_silence=0.3, tail_silence=0.4),
    }


@pytest.fixture(params=["sqlite-local", "postgres-s3"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    with ExitStack() as stack:
        if request.param == "sqlite-local":
            s = rows.make_settings(tmp_path)
        else:
            url = stack.enter_context(throwaway_postgres())
            s3 = stack.enter_context(moto_s3())
            s = rows.make_settings(tmp_path, url, **s3)
            get_store(s).ensure_bucket()  # type: ignore[attr-defined]
        Base.metadata.create_all(get_engine(s))
        queue.set_broker(None)
        yield s
        queue.set_broker(None)
        dispose_engines()


def wait_for(settings, compile_id: str, timeout: float = 300) -> Compile:
    deadline = time.monotonic() + timeout
    seen_progress: list[float] = []
    while time.monotonic() < deadline:
        with unit_of_work(settings) as s:
            row = s.get(Compile, compile_id)
            seen_progress.append(row.progress)
            if row.status in ("done", "failed"):
                row.seen_progress = seen_progress  # type: ignore[attr-defined]
                return row
        time.sleep(0.25)
    raise AssertionError(f"compile {compile_id} did not finish in {timeout} s")


def test_compile_end_to_end_through_the_in_process_broker(settings, clips) -> None:
    store = get_store(settings)
    with unit_of_work(settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org, translation_language="en")
        lead = rows.leader(s, org, "ur", name="Imam Yusuf")
        en = rows.clip(s, store, camp, clips["en"], language="en")
        ur = rows.clip(s, store, camp, clips["ur"], language="ur", lead=lead)
        rows.clip(s, store, camp, clips["en"], language="en", consent=False)  # never compiled
        comp = Compile(campaign_id=camp.id, formats=["landscape"], status="queued")
        s.add(comp)
        s.flush()
        jobs.enqueue("compile.run", session=s, compile_id=comp.id)
    workers = jobs.start_embedded_workers(settings, resume=False)
    assert workers is not None
    try:
        row = wait_for(settings, comp.id)
    finally:
        workers.stop()
    assert row.status == "done", (row.error_code, row.error)
    assert row.progress == 1.0
    assert any(0 < p < 1 for p in row.seen_progress), "progress was never visible mid-way"
    names = {o["name"] for o in row.outputs}
    assert {"video-landscape.mp4", "poster-landscape.jpg", "report.json",
            "subtitles/ur.srt", "subtitles/ur.vtt", "subtitles/en.srt",
            "cuts/ur-landscape.mp4", "cuts/en-landscape.mp4"} <= names
    for out in row.outputs:
        assert out["key"] == f"compiles/{comp.id}/{out['name']}"
        assert store.size(out["key"]) == out["size"]
    video = Path(settings.data_dir) / "check.mp4"
    store.get_file(f"compiles/{comp.id}/video-landscape.mp4", video)
    info = ffprobe(video)
    streams = {st["codec_type"]: st for st in info["streams"]}
    assert streams["video"]["width"] == 1920 and streams["video"]["height"] == 1080
    assert "audio" in streams
    duration = float(info["format"]["duration"])
    clip_seconds = sum(float(ffprobe(p)["format"].get("duration") or 0) for p in
                       (clips["en"],))
    assert clip_seconds < duration < 30
    with store.open(f"compiles/{comp.id}/subtitles/ur.srt") as fh:
        srt = fh.read().decode("utf-8")
    assert "گھر پر رہیں" in srt
    with store.open(f"compiles/{comp.id}/report.json") as fh:
        report = json.load(fh)
    assert {c["language"] for c in report["clips"]} == {"en", "ur"}
    ur_cues = next(c for c in report["clips"] if c["language"] == "ur")["cues"]["landscape"]
    assert any("گھر" in " ".join(cue["native"]) for cue in ur_cues)
    with unit_of_work(settings) as s:
        ccs = s.query(CompileClip).filter_by(compile_id=comp.id).all()
        assert {cc.clip_id for cc in ccs} == {en.id, ur.id}
        assert all(cc.status == "done" and cc.progress == 1.0 for cc in ccs)
