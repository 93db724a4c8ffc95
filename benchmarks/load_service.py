"""Load benchmark of the service: the pages staff and leaders hit most, uploads, and the
server's memory while 20 big uploads stream in at once.

What it does (all on loopback, bounded, stops by itself, removes everything it made):

1. Seeds a fresh SQLite database with the service's own models and functions: an
   organisation, an admin (argon2id, `add_user`), a campaign of three sentences translated and
   approved in Urdu, Polish and Bengali, `--leaders` leaders, each with an invite link.
2. Starts `chorus serve` (web + in-process workers) as a separate process on a free port.
3. Drives it with httpx from `--concurrency` threads, a fixed number of requests per endpoint,
   one endpoint at a time: the staff board (signed in), the campaign list, the leader's
   invite page `/i/<token>`, and staff tus uploads of a small real WebM clip (create, then one
   PATCH with the whole file). Reports p50/p99 latency and throughput for each.
4. Waits for the workers to probe the small clips, then streams `--big-count` leader uploads
   of `--compare-mb` MB at once, then of `--big-mb` MB at once (each body a generator of
   1 MiB blocks: never held in memory), sampling the RSS of the server's whole process tree
   (psutil, every 50 ms). Memory must not grow with upload size: the two peaks are compared.

Usage:  .venv/bin/python benchmarks/load_service.py [--requests 400] [--concurrency 8]
        [--big-count 20] [--big-mb 200] [--compare-mb 50] [--json results.json]

Needs ~2 x big-count x big-mb of free disk under --tmp while it runs (8 GB by default: the
upload's temporary file and the stored original), all deleted at the end.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures as cf
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from service.db import dispose_engines, unit_of_work  # noqa: E402
from service.migrations import upgrade  # noqa: E402
from service.models import (  # noqa: E402
    Campaign,
    CampaignLanguage,
    Clip,
    Invite,
    Leader,
    Sentence,
    Translation,
)
from service.organisations.service import add_user, get_or_create_organisation  # noqa: E402
from service.security import hash_token, new_token  # noqa: E402
from service.settings import Settings  # noqa: E402

MB = 1_000_000
MiB = 1024 * 1024
EMAIL = "load@example.org"
PASSWORD = "a long benchmark password"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TUS = {"Tus-Resumable": "1.0.0"}
MESSAGE = {
    "en": ["Get your flu vaccine this winter.", "It is free for people over sixty-five.",
           "Ask at your GP surgery or pharmacy."],
    "ur": ["اس سردی میں فلو کی ویکسین لگوائیں۔",
           "پینسٹھ سال سے زیادہ عمر کے لوگوں کے لیے یہ مفت ہے۔",
           "اپنے جی پی سرجری یا فارمیسی سے پوچھیں۔"],
    "pl": ["Zaszczep się przeciw grypie tej zimy.",
           "Dla osób po sześćdziesiątce piątce jest bezpłatna.",
           "Zapytaj w przychodni lub aptece."],
    "bn": ["এই শীতে ফ্লু টিকা নিন।", "পঁয়ষট্টি বছরের বেশি বয়সীদের জন্য এটি বিনামূল্যে।",
           "আপনার জিপি বা ফার্মেসিতে জিজ্ঞাসা করুন।"],
}


# --------------------------------------------------------------------------------- seed


@dataclass
class Seeded:
    campaign_id: str
    tokens: list[str]  # one invite link token per leader


def seed(settings: Settings, leaders: int) -> Seeded:
    """A migrated database with an admin, a translated campaign and `leaders` invites."""
    upgrade(settings)
    tokens: list[str] = []
    languages = [lang for lang in MESSAGE if lang != "en"]
    with unit_of_work(settings) as db:
        org, _ = get_or_create_organisation(db, "Benchmark Borough Council")
        add_user(db, org, email=EMAIL, name="Load Tester", role="admin", password=PASSWORD)
        campaign = Campaign(organisation_id=org.id, title="Flu vaccine winter", language="en",
                            translation_language="en", formats=["landscape"],
                            deadline=datetime.now(UTC) + timedelta(days=30))
        db.add(campaign)
        db.flush()
        sentences = [Sentence(campaign_id=campaign.id, position=i, text=text)
                     for i, text in enumerate(MESSAGE["en"])]
        db.add_all(sentences)
        db.flush()
        for lang in languages:
            db.add(CampaignLanguage(campaign_id=campaign.id, language=lang))
            for sentence, text in zip(sentences, MESSAGE[lang], strict=True):
                db.add(Translation(campaign_id=campaign.id, sentence_id=sentence.id,
                                   language=lang, text=text, status="approved"))
        for i in range(leaders):
            lang = languages[i % len(languages)]
            leader = Leader(organisation_id=org.id, name=f"Leader {i:03d}",
                            role="Community leader", community="Benchmark", language=lang)
            db.add(leader)
            db.flush()
            token = new_token()
            db.add(Invite(campaign_id=campaign.id, leader_id=leader.id,
                          token_hash=hash_token(token), language=lang,
                          expires_at=datetime.now(UTC) + timedelta(days=30)))
            tokens.append(token)
        campaign_id = campaign.id
    dispose_engines()
    return Seeded(campaign_id, tokens)


def small_clip(folder: Path) -> bytes:
    """A real 1 s WebM (VP8 + Opus) of a few tens of kB, so the workers really probe it."""
    out = folder / "small.webm"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "1",
         "-c:v", "libvpx", "-b:v", "200k", "-c:a", "libopus", "-y", str(out)],
        check=True, timeout=60)
    return out.read_bytes()


# ------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def start_server(root: Path, env_settings: dict[str, str], port: int) -> Server:
    chorus = Path(sys.executable).with_name("chorus")
    if not chorus.exists():
        raise SystemExit("the `chorus` command is missing: .venv/bin/pip install -e '.[dev]'")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    env.update(env_settings)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    log = root / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(chorus), "serve", "--host", "127.0.0.1", "--port",
                                    str(port)], cwd=root, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"chorus serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(url, process, log)
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit("chorus serve did not answer in 60 s")
        time.sleep(0.2)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


# ---------------------------------------------------------------------------- clients


@dataclass
class Staff:
    cookies: dict[str, str]
    csrf: str


def sign_in(url: str) -> Staff:
    with httpx.Client(base_url=url, timeout=30) as client:
        page = client.get("/login")
        match = CSRF_RE.search(page.text)
        assert match, "no CSRF token on /login"
        done = client.post("/login", data={"email": EMAIL, "password": PASSWORD,
                                           "csrf_token": match.group(1), "next": "/campaigns"})
        assert done.status_code == 303, f"sign-in failed: {done.status_code}"
        me = client.get("/api/me")
        assert me.status_code == 200, me.text
        return Staff(dict(client.cookies), me.json()["csrf_token"])


def tus_metadata(values: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


@dataclass
class Phase:
    name: str
    requests: int
    concurrency: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    errors: list[str]

    @property
    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 \
            else ordered * 99
        return {"endpoint": self.name, "requests": self.requests,
                "concurrency": self.concurrency, "errors": len(self.errors),
                "p50_ms": round(cuts[49], 1), "p99_ms": round(cuts[98], 1),
                "max_ms": round(ordered[-1], 1),
                "throughput_per_s": round(self.requests / self.seconds, 1)}


def run_phase(name: str, url: str, requests: int, concurrency: int, staff: Staff | None,
              call: Callable[[httpx.Client, int], list[tuple[str, float]]]) -> list[Phase]:
    """`requests` calls of `call(client, i)` spread over `concurrency` threads, each with
    its own connection. `call` returns (label, ms) per HTTP request it made, so one call can
    time two requests (tus create + PATCH) under separate labels."""
    timings: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=60, cookies=staff.cookies if staff else None,
                          follow_redirects=False) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                try:
                    measured = call(client, i)
                except Exception as exc:  # counted and reported
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    for label, ms in measured:
                        timings.setdefault(label, []).append(ms)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if not timings:
        raise SystemExit(f"{name}: every request failed: {errors[:3]}")
    labels = list(timings)
    return [Phase(label, len(timings[label]), concurrency, seconds, timings[label],
                  errors if label == labels[0] else []) for label in labels]


def timed_get(path: str, label: str) -> Callable[[httpx.Client, int], list[tuple[str, float]]]:
    """One GET of `path` answered 200, timed under `label`."""
    def call(client: httpx.Client, i: int) -> list[tuple[str, float]]:
        started = time.perf_counter()
        response = client.get(path)
        ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{label}: {response.status_code}")
        return [(label, ms)]
    return call


# ----------------------------------------------------------------------------- memory


class TreeRss:
    """Sum of RSS over a process and all its descendants, sampled every `interval` s."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.root = psutil.Process(pid)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def now(self) -> int:
        total = 0
        for proc in [self.root, *self.root.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _loop(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - start, self.now()))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> int:
        return max(rss for _, rss in self.samples)


def _body(total: int, block: bytes) -> Iterator[bytes]:
    """`total` bytes made of repeats of `block`: the client never holds the file."""
    sent = 0
    while sent < total:
        piece = block if total - sent >= len(block) else block[: total - sent]
        sent += len(piece)
        yield piece


def consent(url: str, token: str) -> None:
    """The leader's consent form, as the page posts it (a consent is used by one upload)."""
    response = httpx.post(f"{url}/i/{token}/consent", data={
        "agree_recording": "yes", "agree_shows_role": "yes", "channels": "whatsapp"},
        timeout=30)
    assert response.status_code == 303 and "/record" in response.headers["location"], (
        response.status_code, response.headers.get("location"))


def leader_upload(url: str, token: str, size: int, block: bytes) -> float:
    """One tus upload through an invite: create, then a single streamed PATCH. Seconds."""
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=httpx.Timeout(600, connect=30)) as client:
        headers = {**TUS, "Chorus-Invite": token}
        created = client.post("/uploads/", headers={
            **headers, "Upload-Length": str(size),
            "Upload-Metadata": tus_metadata({"filename": "big.webm", "filetype": "video/webm"})})
        assert created.status_code == 201, (created.status_code, created.text)
        done = client.patch(created.headers["location"], content=_body(size, block), headers={
            **headers, "Upload-Offset": "0", "Content-Length": str(size),
            "Content-Type": "application/offset+octet-stream"})
        assert done.status_code == 204, (done.status_code, done.text)
        assert int(done.headers["upload-offset"]) == size
    return time.perf_counter() - started


@dataclass
class MemoryRun:
    uploads: int
    mb_each: int
    seconds: float
    idle_rss_mb: float
    peak_rss_mb: float
    growth_mb: float
    mb_per_s: float


def concurrent_uploads(server: Server, tokens: list[str], mb_each: int) -> MemoryRun:
    for token in tokens:
        consent(server.url, token)
    block = os.urandom(MiB)
    size = mb_each * MB
    sampler = TreeRss(server.process.pid)
    idle = statistics.median(sampler.now() for _ in range(10))
    with sampler, cf.ThreadPoolExecutor(len(tokens)) as pool:
        started = time.perf_counter()
        durations = list(pool.map(lambda t: leader_upload(server.url, t, size, block), tokens))
        seconds = time.perf_counter() - started
    del durations
    return MemoryRun(len(tokens), mb_each, round(seconds, 1), round(idle / MiB, 1),
                     round(sampler.peak / MiB, 1), round((sampler.peak - idle) / MiB, 1),
                     round(len(tokens) * size / MB / seconds, 1))


def wait_for_probes(settings: Settings, timeout: float) -> dict[str, int]:
    """Until no clip is waiting for or in the probe (the workers are idle again)."""
    deadline = time.monotonic() + timeout
    while True:
        with unit_of_work(settings) as db:
            statuses = [c.status for c in db.query(Clip).all()]
        counts = {s: statuses.count(s) for s in set(statuses)}
        if not counts.get("received") and not counts.get("probing"):
            dispose_engines()
            return counts
        if time.monotonic() > deadline:
            dispose_engines()
            return counts
        time.sleep(1)


def remove_uploaded(root: Path) -> None:
    """Free the disk between runs: stored originals and unfinished upload files."""
    for folder in (root / "objects" / "clips", root / "data" / "uploads"):
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(),
            "ram_gb": round(psutil.virtual_memory().total / 1e9, 1),
            "python": platform.python_version(), "os": platform.platform(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per page endpoint")
    parser.add_argument("--uploads", type=int, default=100, help="small tus uploads")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--leaders", type=int, default=40, help="seeded leaders with invites")
    parser.add_argument("--big-count", type=int, default=20, help="concurrent big uploads")
    parser.add_argument("--big-mb", type=int, default=200, help="size of each big upload (MB)")
    parser.add_argument("--compare-mb", type=int, default=50,
                        help="size of the comparison run's uploads (MB); 0 = skip")
    parser.add_argument("--tmp", default=None, help="where the throwaway data goes")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.leaders < args.big_count:
        parser.error("--leaders must be at least --big-count")

    root = Path(tempfile.mkdtemp(prefix="chorus-load-", dir=args.tmp))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"CHORUS_DATABASE_URL": f"sqlite:///{root / 'chorus.db'}",
           "CHORUS_DATA_DIR": str(root / "data"), "CHORUS_STORAGE_ROOT": str(root / "objects"),
           "CHORUS_PUBLIC_URL": url,
           # The guessing limit counts failed look-ups only; the benchmark makes none, but a
           # generous limit keeps one stray failure from turning the run into 429s.
           "CHORUS_INVITE_RATE_LIMIT_PER_MINUTE": "100000"}
    settings = Settings(database_url=env["CHORUS_DATABASE_URL"], data_dir=root / "data",
                        storage_root=root / "objects", public_url=url)
    server: Server | None = None
    results: dict[str, Any] = {"machine": machine(), "args": vars(args)}
    try:
        seeded = seed(settings, args.leaders)
        clip = small_clip(root)
        server = start_server(root, env, port)
        staff = sign_in(url)
        print(f"server pid {server.process.pid} on {url}; data in {root}", flush=True)
        cid = seeded.campaign_id
        tokens = seeded.tokens
        phases: list[Phase] = []
        # Warm-up: templates compiled, connections and caches primed (not measured).
        run_phase("warm-up", url, 20, 2, staff, timed_get(f"/campaigns/{cid}/board", "warm-up"))
        run_phase("warm-up", url, 20, 2, None, timed_get("/i/" + tokens[-1], "warm-up"))
        phases += run_phase("board", url, args.requests, args.concurrency, staff,
                            timed_get(f"/campaigns/{cid}/board",
                                      "GET /campaigns/<id>/board (staff)"))
        phases += run_phase("campaigns", url, args.requests, args.concurrency, staff,
                            timed_get("/campaigns", "GET /campaigns (staff)"))

        def invite_page(client: httpx.Client, i: int) -> list[tuple[str, float]]:
            started = time.perf_counter()
            response = client.get(f"/i/{tokens[i % len(tokens)]}")
            ms = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"GET /i/<token>: {response.status_code}")
            return [("GET /i/<token>", ms)]

        phases += run_phase("invite", url, args.requests, args.concurrency, None, invite_page)

        def small_upload(client: httpx.Client, i: int) -> list[tuple[str, float]]:
            headers = {**TUS, "X-CSRF-Token": staff.csrf}
            started = time.perf_counter()
            created = client.post("/uploads/", headers={
                **headers, "Upload-Length": str(len(clip)),
                "Upload-Metadata": tus_metadata({
                    "campaign_id": cid, "filename": f"clip-{i}.webm", "filetype": "video/webm",
                    "language": "ur", "speaker_name": f"Speaker {i}"})})
            mid = time.perf_counter()
            if created.status_code != 201:
                raise RuntimeError(f"tus create: {created.status_code} {created.text[:200]}")
            done = client.patch(created.headers["location"], content=clip, headers={
                **headers, "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream"})
            end = time.perf_counter()
            if done.status_code != 204:
                raise RuntimeError(f"tus PATCH: {done.status_code} {done.text[:200]}")
            return [("tus POST /uploads/ (create)", (mid - started) * 1000),
                    (f"tus PATCH ({len(clip) // 1000} kB, completes)", (end - mid) * 1000)]

        phases += run_phase("uploads", url, args.uploads, args.concurrency, staff, small_upload)
        results["endpoints"] = [p.summary for p in phases]
        for p in phases:
            if p.errors:
                print(f"{p.name}: {len(p.errors)} errors, e.g. {p.errors[:2]}", flush=True)
        _print_table(results["endpoints"])

        probe_started = time.perf_counter()
        counts = wait_for_probes(settings, timeout=600)
        results["small_clips_probed"] = {"statuses": counts,
                                         "seconds": round(time.perf_counter() - probe_started, 1)}
        print(f"small clips after the workers: {counts}", flush=True)

        memory: list[MemoryRun] = []
        sizes = [s for s in (args.compare_mb, args.big_mb) if s]
        for n, mb in enumerate(sizes):
            batch = tokens[n * args.big_count % len(tokens):][: args.big_count]
            if len(batch) < args.big_count:
                batch = tokens[: args.big_count]
            run = concurrent_uploads(server, batch, mb)
            memory.append(run)
            print(f"{run.uploads} x {mb} MB at once: {run.seconds} s ({run.mb_per_s} MB/s), "
                  f"server tree RSS idle {run.idle_rss_mb} MiB, peak {run.peak_rss_mb} MiB "
                  f"(+{run.growth_mb} MiB)", flush=True)
            after = wait_for_probes(settings, timeout=600)
            print(f"  clips after the workers probed them: {after} (the big bodies are random "
                  "bytes, so the probe refuses them: it must, quickly)", flush=True)
            remove_uploaded(root)
        results["memory"] = [asdict(m) for m in memory]
        if len(memory) == 2:
            small, big = memory
            ratio = big.peak_rss_mb / small.peak_rss_mb
            results["memory_ratio_big_to_small"] = round(ratio, 3)
            print(f"peak RSS {big.mb_each} MB uploads / {small.mb_each} MB uploads: "
                  f"{ratio:.2f} (data {big.mb_each / small.mb_each:.0f}x larger)", flush=True)
    finally:
        if server is not None:
            stop_server(server)
            results["server_log_tail"] = server.log.read_text(errors="replace")[-2000:]
        dispose_engines()
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'endpoint':42} {'n':>5} {'err':>4} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7}")
    for r in rows:
        print(f"{r['endpoint']:42} {r['requests']:5d} {r['errors']:4d} {r['p50_ms']:8.1f} "
              f"{r['p99_ms']:8.1f} {r['throughput_per_s']:7.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
