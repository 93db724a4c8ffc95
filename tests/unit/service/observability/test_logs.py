"""configure_logging: JSON lines with timestamp, level, logger, message and the job ids."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime

import pytest

from service.observability.logs import configure_logging, log_context
from service.settings import Settings


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging(Settings(), level="DEBUG", fmt="json", stream=buffer)
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_json_lines_with_ids_from_extra(stream: io.StringIO) -> None:
    logging.getLogger("workers.stages.prepare").info(
        "segment %s rendered", "landscape",
        extra={"clip_id": "clip-1", "compile_id": "cmp-9", "seconds": 2.5})
    (line,) = lines(stream)
    assert line["level"] == "INFO"
    assert line["logger"] == "workers.stages.prepare"
    assert line["message"] == "segment landscape rendered"
    assert line["clip_id"] == "clip-1" and line["compile_id"] == "cmp-9"
    assert line["seconds"] == 2.5
    assert line["timestamp"].endswith("Z")
    assert datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).tzinfo is not None
    assert list(line)[:4] == ["timestamp", "level", "logger", "message"]


def test_log_context_binds_ids_per_thread(stream: io.StringIO) -> None:
    log = logging.getLogger("workers.actors")

    def work(job: str) -> None:
        with log_context(job_id=job, compile_id=f"c-{job}"):
            log.warning("running")

    threads = [threading.Thread(target=work, args=(f"j{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.info("outside")
    records = lines(stream)
    inside = [r for r in records if r["message"] == "running"]
    assert sorted(r["job_id"] for r in inside) == ["j0", "j1", "j2", "j3"]
    assert all(r["compile_id"] == f"c-{r['job_id']}" for r in inside)
    outside = next(r for r in records if r["message"] == "outside")
    assert "job_id" not in outside


def test_exceptions_and_odd_values_stay_one_json_line(stream: io.StringIO) -> None:
    log = logging.getLogger("chorus.test")
    try:
        raise ValueError("bad clip")
    except ValueError:
        log.exception("stage failed", extra={"clip_id": "c1", "path": object()})
    (line,) = lines(stream)
    assert line["level"] == "ERROR" and line["clip_id"] == "c1"
    assert "ValueError: bad clip" in line["exception"]
    assert line["path"].startswith("<object object")


def test_configure_twice_keeps_one_handler(stream: io.StringIO) -> None:
    second = io.StringIO()
    configure_logging(Settings(), stream=second, fmt="json")
    logging.getLogger("x").warning("once")
    assert stream.getvalue() == ""
    assert len(lines(second)) == 1
    names = [h.get_name() for h in logging.getLogger().handlers]
    assert names.count("chorus") == 1


def test_uvicorn_and_dramatiq_lines_come_out_as_json(stream: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").info("Started server process")
    logging.getLogger("dramatiq.worker.Worker").info("Worker is ready")
    assert [r["logger"] for r in lines(stream)] == ["uvicorn.error", "dramatiq.worker.Worker"]


def test_text_format_for_people(stream: io.StringIO) -> None:
    buffer = io.StringIO()
    configure_logging(Settings(), fmt="text", stream=buffer)
    with log_context(clip_id="c7"):
        logging.getLogger("chorus").warning("hello")
    assert "WARNING" in buffer.getvalue() and "hello clip_id=c7" in buffer.getvalue()
