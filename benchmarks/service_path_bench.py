"""The service path against the command line: the same compile three ways, one run.

    .venv/bin/python benchmarks/service_path_bench.py [--clips 17] [--jobs 2] [--work DIR]

The generated set (``examples/stay-at-home/make_clips.py --count N``, as in
``scaling_bench.py``), compiled in landscape with the same parallelism three times, each from
a cold engine cache:

* ``chorus compile --jobs J`` (a subprocess, start-up counted: ``compile_bench.compile_run``);
* the embedded default: SQLite, the local object store and the in-process broker with
  ``worker_threads = J`` (in this process: from sending ``compile.run`` to ``done``);
* Redis workers: ``chorus worker --processes 1 --threads J`` on PostgreSQL
  (``scaling_bench.run_config``: from sending ``compile.run`` to ``done``).

It prints each wall time and the ratio service path / command line (goal: within 10 %).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import compile_bench  # noqa: E402
import scaling_bench  # noqa: E402

from service import jobs, queue  # noqa: E402
from service.db import dispose_engines, get_engine, unit_of_work  # noqa: E402
from service.models import Base, Compile  # noqa: E402
from tests.fixtures import service_rows as rows  # noqa: E402

GOAL = 1.10


def embedded_run(work: Path, campaign_file: Path, threads: int) -> dict[str, Any]:
    """The embedded default: SQLite, local store, in-process broker, ``threads`` threads."""
    base = work / f"embedded-{uuid.uuid4().hex[:6]}"
    settings = rows.make_settings(base, worker_threads=threads)
    Base.metadata.create_all(get_engine(settings))
    queue.set_broker(None)
    compile_id = scaling_bench.load_rows(settings, campaign_file, "landscape")
    workers = jobs.start_embedded_workers(settings, resume=False)
    assert workers is not None
    try:
        started = time.monotonic()
        with unit_of_work(settings) as s:
            jobs.enqueue("compile.run", session=s, compile_id=compile_id)
        while True:
            with unit_of_work(settings) as s:
                row = s.get(Compile, compile_id)
                status, error = row.status, (row.error_code, row.error)
            if status in ("done", "failed"):
                break
            time.sleep(0.1)
        wall = time.monotonic() - started
    finally:
        workers.stop()
        queue.set_broker(None)
        dispose_engines()
    if status != "done":
        raise SystemExit(f"embedded compile {status}: {error}")
    result = {"config": f"embedded x{threads}", "wall_s": round(wall, 1)}
    print(json.dumps(result), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=17)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/chorus-service-path"))
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    campaign_file = scaling_bench.ensure_set(args.work, args.clips)
    cli = compile_bench.compile_run("chorus compile", campaign_file, args.work / "cli-out",
                                    args.jobs, args.work / "logs" / "cli.log", fresh=True)
    embedded = embedded_run(args.work, campaign_file, args.jobs)
    redis = scaling_bench.run_config(args.work, campaign_file, 1, args.jobs, "landscape")
    figures = {"clips": args.clips, "jobs": args.jobs, "cli_s": round(cli.wall_s, 1),
               "embedded_s": embedded["wall_s"], "redis_1_process_s": redis["wall_s"],
               "load_before": cli.load_before, "redis_stages": redis}
    print(f"\n{'path':>22} {'wall s':>7} {'/ CLI':>6}")
    for label, wall in (("chorus compile", figures["cli_s"]),
                        ("embedded default", figures["embedded_s"]),
                        ("Redis, 1 process", figures["redis_1_process_s"])):
        ratio = wall / figures["cli_s"]
        verdict = "" if label == "chorus compile" else (" ok" if ratio <= GOAL else " MISSED")
        print(f"{label:>22} {wall:>7.1f} {ratio:>6.2f}{verdict}")
    if args.results:
        args.results.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
