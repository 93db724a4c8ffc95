"""Scaling benchmark: the 17-clip compile through Redis with 1 and 2 worker processes.

    .venv/bin/python benchmarks/scaling_bench.py                 # 1x1 and 2x1 (processes x threads)
    .venv/bin/python benchmarks/scaling_bench.py --configs 1x1,2x1,1x2 --results out.json

For each configuration: a fresh PostgreSQL database (throwaway, 127.0.0.1:5432), a fresh object
store folder and a fresh data folder per worker (no engine cache carried over: every segment is
rendered), a unique queue prefix on the machine's Redis (127.0.0.1:6379). The campaign is the
set `examples/stay-at-home/make_clips.py --count 17` generates (17 languages, many input
formats), loaded into the database as approved, consented clips with their texts. `chorus
worker --processes P --threads T` is started, the compile is sent, and the time from sending
`compile.run` to the compile being `done` is measured, with per-stage times read from the
stage rows (each clip's `clip.prepare`, the one `compile.join`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service import queue  # noqa: E402
from service.db import dispose_engines, get_engine, unit_of_work  # noqa: E402
from service.models import Base, Compile, CompileClip  # noqa: E402
from service.storage import get_store  # noqa: E402
from tests.fixtures import service_rows as rows  # noqa: E402
from tests.integration.compile_env import env_vars, throwaway_postgres  # noqa: E402
from workers.media.campaign_file import load_campaign  # noqa: E402

MAKE_CLIPS = ROOT / "examples" / "stay-at-home" / "make_clips.py"


def ensure_set(work: Path, count: int) -> Path:
    folder = work / f"set-{count}"
    campaign = folder / "campaign.yaml"
    if not campaign.exists():
        print(f"generating {count} clips in {folder} ...", flush=True)
        subprocess.run([sys.executable, str(MAKE_CLIPS), "--count", str(count), "--out",
                        str(folder)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return campaign


def load_rows(settings: Any, campaign_file: Path, fmt: str) -> str:
    """The campaign file as database rows; returns a queued compile's id."""
    spec = load_campaign(campaign_file).campaign
    store = get_store(settings)
    with unit_of_work(settings) as s:
        camp = rows.campaign(s, rows.organisation(s), formats=(fmt,), urdu=False)
        camp.intro_text = spec.intro.text if spec.intro else None
        camp.outro_text = spec.outro.text if spec.outro else None
        for clip in spec.clips:
            row = rows.clip(s, store, camp, clip.file, language=clip.language)
            row.sentences = list(clip.sentences)
            row.speaker_name, row.speaker_role = clip.speaker, clip.role
            if clip.trim:
                row.trim_start, row.trim_end = clip.trim
        comp = Compile(campaign_id=camp.id, formats=[fmt], status="queued")
        s.add(comp)
        s.flush()
        return comp.id


def run_config(work: Path, campaign_file: Path, processes: int, threads: int, fmt: str
               ) -> dict[str, Any]:
    label = f"{processes}x{threads}"
    base = work / f"run-{label}-{uuid.uuid4().hex[:6]}"
    with throwaway_postgres() as url:
        fields: dict[str, object] = {
            "database_url": url, "storage_root": base / "objects", "broker": "redis",
            "broker_url": "redis://127.0.0.1:6379/0",
            "queue_prefix": f"bench{uuid.uuid4().hex[:8]}-",
            "worker_threads": threads, "worker_processes": processes,
        }
        settings = rows.make_settings(base, url, **{k: v for k, v in fields.items()
                                                    if k != "database_url"})
        Base.metadata.create_all(get_engine(settings))
        compile_id = load_rows(settings, campaign_file, fmt)
        env = {**os.environ, **env_vars({**fields, "data_dir": base / "worker"})}
        log = base / "worker.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", "--processes", str(processes),
             "--threads", str(threads), "--no-resume"],
            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while log.read_text(errors="replace").count("ready for action") < processes:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("workers did not start:\n" + log.read_text()[-3000:])
                time.sleep(0.2)
            broker = queue.make_broker(settings)
            started = time.monotonic()
            queue.send(broker, "compile.run", {"compile_id": compile_id},
                       prefix=settings.queue_prefix)
            broker.close()
            while True:
                with unit_of_work(settings) as s:
                    row = s.get(Compile, compile_id)
                    if row.status in ("done", "failed"):
                        break
                if proc.poll() is not None:
                    raise SystemExit("worker died:\n" + log.read_text()[-3000:])
                time.sleep(0.25)
            wall = time.monotonic() - started
            with unit_of_work(settings) as s:
                row = s.get(Compile, compile_id)
                clips = s.query(CompileClip).filter_by(compile_id=compile_id).all()
                if row.status != "done":
                    raise SystemExit(f"compile {row.status}: {row.error_code} {row.error}")
                prep = [(c.finished_at - c.started_at).total_seconds() for c in clips]
                first_clip = min(c.started_at for c in clips)
                last_clip = max(c.finished_at for c in clips)
                result = {
                    "config": label, "processes": processes, "threads": threads,
                    "format": fmt, "clips": len(clips), "wall_s": round(wall, 1),
                    "clip_prepare_s": {"mean": round(statistics.mean(prep), 1),
                                       "max": round(max(prep), 1),
                                       "sum": round(sum(prep), 1)},
                    "clips_phase_s": round((last_clip - first_clip).total_seconds(), 1),
                    "join_s": round((row.finished_at - row.join_started_at).total_seconds(), 1),
                    "workers": len({c.worker_id for c in clips}),
                }
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            dispose_engines()
    print(json.dumps(result), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=17)
    parser.add_argument("--configs", default="1x1,2x1", help="processes x threads, comma list")
    parser.add_argument("--format", default="landscape",
                        choices=["landscape", "portrait", "square"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/chorus-scaling"))
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    campaign_file = ensure_set(args.work, args.clips)
    results = []
    for config in args.configs.split(","):
        p, t = (int(x) for x in config.lower().split("x"))
        results.append(run_config(args.work, campaign_file, p, t, args.format))
    base = results[0]["wall_s"]
    print(f"\n{'config':>7} {'wall s':>7} {'speed-up':>8} {'clip mean/max s':>16} "
          f"{'clips phase s':>13} {'join s':>7} {'workers':>7}")
    for r in results:
        print(f"{r['config']:>7} {r['wall_s']:>7} {base / r['wall_s']:>8.2f} "
              f"{r['clip_prepare_s']['mean']:>7}/{r['clip_prepare_s']['max']:<8} "
              f"{r['clips_phase_s']:>13} {r['join_s']:>7} {r['workers']:>7}")
    if args.results:
        args.results.write_text(json.dumps({"cores": os.cpu_count(), "runs": results},
                                           indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
