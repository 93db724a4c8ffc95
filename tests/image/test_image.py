"""The image, run as a deployment runs it: migrate, serve, worker and compile containers.

The image is built first by ``infra/scripts/image.sh`` (a cached no-op when nothing changed;
it starts dockerd if needed). Containers use the host's network or none: these machines
allow no traffic through Docker's bridge. Against the machine's PostgreSQL (a fresh database),
Redis (a queue prefix of this run) and an S3 server (moto, on loopback); every Chorus
container runs as in compose.yaml: read-only root, ``/tmp`` as tmpfs, no capabilities.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, text

from service.db import dispose_engines, get_engine
from service.models import Base
from service.settings import Settings
from service.storage import get_store
from tests.fixtures.media import ffprobe, make_clip
from tests.integration.compile_env import env_vars, moto_s3, throwaway_postgres
from tests.integration.netutil import free_port

pytestmark = [pytest.mark.media, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("CHORUS_IMAGE", "chorus:latest")
SENTENCES = ["Stay at home.", "Protect the NHS.", "Save lives."]
URDU = ["گھر پر رہیں۔", "این ایچ ایس کی حفاظت کریں۔", "جانیں بچائیں۔"]
HARDENING = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
             "--security-opt", "no-new-privileges"]


@pytest.fixture(scope="module")
def image() -> str:
    """The image of this checkout (built, or found up to date, by the build script)."""
    done = subprocess.run(["bash", str(ROOT / "infra" / "scripts" / "image.sh")], cwd=ROOT,
                          env={**os.environ, "CHORUS_IMAGE": IMAGE}, capture_output=True,
                          text=True, timeout=1800)
    assert done.returncode == 0, f"image build failed:\n{done.stdout}\n{done.stderr}"
    return IMAGE


def docker(*args: str, timeout: float = 120, stdin: str | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          input=stdin)


@dataclass
class Deployment:
    """Production settings pointing at this machine's servers, as an env file."""

    tmp: Path
    fields: dict[str, object]
    containers: list[str] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return Settings(**self.fields)  # type: ignore[arg-type]

    def env_file(self, **extra: object) -> Path:
        path = self.tmp / f"env-{uuid.uuid4().hex[:8]}"
        lines = [f"{k}={v}" for k, v in env_vars({**self.fields, **extra}).items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def run(self, image: str, *command: str, network: str = "host", timeout: float = 300,
            stdin: str | None = None, **extra: object) -> subprocess.CompletedProcess[str]:
        """A one-shot container (``--rm``), as ``migrate`` or ``user add`` is run."""
        interactive = ["-i"] if stdin is not None else []
        return docker("run", "--rm", *interactive, "--network", network, *HARDENING,
                      "--env-file", str(self.env_file(**extra)), image, *command,
                      timeout=timeout, stdin=stdin)

    def start(self, image: str, role: str, *command: str, **extra: object) -> str:
        """A long-running container in the background; removed at the end of the test."""
        name = f"chorus-test-{role}-{uuid.uuid4().hex[:8]}"
        started = docker("run", "-d", "--rm", "--name", name, "--network", "host", *HARDENING,
                         "--env-file", str(self.env_file(**extra)), image, *command)
        assert started.returncode == 0, started.stderr
        self.containers.append(name)
        return name

    def logs(self) -> str:
        out = []
        for name in self.containers:
            got = docker("logs", "--tail", "60", name)
            out.append(f"--- {name}\n{got.stdout[-6000:]}{got.stderr[-6000:]}")
        return "\n".join(out)

    def stop(self) -> None:
        for name in self.containers:
            docker("rm", "-f", name)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("image")
    with throwaway_postgres() as url, moto_s3() as s3:
        fields: dict[str, object] = {
            "environment": "production",
            "public_url": "https://chorus.test",
            "secret_key": secrets.token_urlsafe(48),
            "database_url": url,
            **s3,
            "broker": "redis",
            "broker_url": "redis://127.0.0.1:6379/0",
            "queue_prefix": f"img{uuid.uuid4().hex[:10]}-",
            "log_format": "json",
        }
        built = Deployment(tmp, fields)
        get_store(built.settings).ensure_bucket()  # type: ignore[attr-defined]
        try:
            yield built
        finally:
            built.stop()
            dispose_engines()


@pytest.fixture(scope="module")
def migrated(image: str, deployment: Deployment) -> Deployment:
    done = deployment.run(image, "migrate")
    assert done.returncode == 0, done.stderr
    return deployment


def test_migrate_brings_a_fresh_postgres_database_to_head(migrated: Deployment,
                                                          image: str) -> None:
    from alembic.script import ScriptDirectory

    from service.migrations import alembic_config

    head = ScriptDirectory.from_config(alembic_config(migrated.settings)).get_current_head()
    with get_engine(migrated.settings).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        tables = set(inspect(conn).get_table_names())
    assert set(Base.metadata.tables) <= tables
    again = migrated.run(image, "migrate")  # an up-to-date database: nothing to do
    assert again.returncode == 0, again.stderr


def _wait_http(url: str, deployment: Deployment, timeout: float = 90) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=3)
            if response.status_code < 500:
                return response
            last = response.text
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in {timeout} s ({last}):\n{deployment.logs()}")


@pytest.fixture(scope="module")
def web(image: str, migrated: Deployment) -> str:
    port = free_port()
    name = migrated.start(image, "web", "serve", "--host", "127.0.0.1", "--port", str(port),
                          "--proxy-headers")
    _wait_http(f"http://127.0.0.1:{port}/healthz", migrated)
    migrated.fields["_web"] = name  # for the tests below
    return f"http://127.0.0.1:{port}"


def test_serve_answers_health_and_readiness_as_user_10001(web: str, migrated: Deployment,
                                                          image: str) -> None:
    assert httpx.get(f"{web}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{web}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    name = str(migrated.fields["_web"])
    who = docker("exec", name, "python", "-c", "import os; print(os.getuid(), os.getgid())")
    assert who.stdout.split() == ["10001", "10001"], who.stderr
    top = docker("top", name, "-o", "pid,uid,args")  # every process of the container
    assert "serve" in top.stdout, top.stderr
    assert all(line.split()[1] == "10001" for line in top.stdout.splitlines()[1:]), top.stdout
    # the production checks are in force: a weak secret is refused at start
    refused = migrated.run(image, "serve", "--port", str(free_port()), timeout=60,
                           secret_key="short")
    assert refused.returncode != 0 and "CHORUS_SECRET_KEY" in refused.stderr


class Staff:
    """A signed-in staff member over HTTP, behind a TLS proxy (``X-Forwarded-Proto``).

    The production cookies are ``Secure``; an HTTP client keeps them back on a plain-HTTP
    URL, so the cookies are carried here by hand, as the proxy's client would send them.
    """

    def __init__(self, base: str):
        self.http = httpx.Client(base_url=base, timeout=30,
                                 headers={"X-Forwarded-Proto": "https"})
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {**kw.pop("headers", {}), "X-CSRF-Token": self.csrf}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, url, headers=headers, **kw)
        for value in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(value)
            self.cookies.update({k: m.value for k, m in jar.items()})
        return response

    def sign_in(self, email: str, password: str) -> None:
        import re

        page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text[:500]
        done = self.request("POST", "/login", data={
            "email": email, "password": password, "csrf_token": token.group(1),
            "next": "/campaigns"})
        assert done.status_code == 303, done.text[:500]
        self.csrf = self.request("GET", "/api/me").json()["csrf_token"]


def _wait_json(staff: Staff, url: str, done: set[str], deployment: Deployment,
               timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = staff.request("GET", url).json()
        if body["status"] in done:
            return body
        time.sleep(1)
    raise AssertionError(f"{url} still {body.get('status')}:\n{deployment.logs()}")


def test_worker_takes_a_real_compile_from_the_web_container(
        image: str, web: str, migrated: Deployment, tmp_path: Path) -> None:
    metrics = free_port()
    migrated.start(image, "worker", "worker", "--processes", "1", "--threads", "1",
                   metrics_port=metrics)
    assert _wait_http(f"http://127.0.0.1:{metrics}/healthz", migrated).status_code == 200

    email, password = "admin@walsall.example", secrets.token_urlsafe(16)
    added = migrated.run(image, "user", "add", "--email", email, "--name", "Ann Admin",
                         "--role", "admin", "--organisation", "Walsall Council",
                         "--password-stdin", stdin=password + "\n")
    assert added.returncode == 0, added.stderr
    staff = Staff(web)
    staff.sign_in(email, password)

    created = staff.request("POST", "/api/campaigns", json={
        "title": "Stay at Home", "language": "en", "sentences": SENTENCES,
        "languages": [{"language": "ur"}], "formats": ["landscape"],
        "deadline": "2099-12-31T23:59:59Z"})
    assert created.status_code == 201, created.text
    campaign = created.json()
    saved = staff.request("PUT", f"/api/campaigns/{campaign['id']}/translations/ur", json={
        "translations": [{"sentence_id": s["id"], "text": urdu, "status": "approved"}
                         for s, urdu in zip(sorted(campaign["sentences"],
                                                   key=lambda s: s["position"]), URDU,
                                            strict=True)]})
    assert saved.status_code == 200, saved.text

    clips = {
        "en": make_clip(tmp_path / "en.mp4", size=(320, 240), speech_text=" ".join(SENTENCES),
                        lead_silence=0.3, tail_silence=0.4),
        "ur": make_clip(tmp_path / "ur.mp4", size=(240, 320), speech_text=" ".join(URDU),
                        voice="ur", lead_silence=0.3, tail_silence=0.4),
    }
    ids = []
    for language, path in clips.items():
        uploaded = staff.request(
            "POST", f"/campaigns/{campaign['id']}/clips/upload",
            data={"language": language, "speaker_name": f"Speaker {language}",
                  "speaker_role": "Community leader", "consent_method": "signed_form",
                  "consent_date": "2026-03-01", "consent_note": "form in the office",
                  "csrf_token": staff.csrf},
            files=[("files", (path.name, path.read_bytes(), "video/mp4"))],
            headers={"Accept": "application/json"})
        assert uploaded.status_code == 201, uploaded.text
        ids += uploaded.json()["clips"]
    for clip_id in ids:  # probed by the worker container
        clip = _wait_json(staff, f"/api/clips/{clip_id}", {"ready", "failed"}, migrated)
        assert clip["status"] == "ready", clip
        approved = staff.request("POST", f"/api/clips/{clip_id}/review",
                                 json={"action": "approve"})
        assert approved.status_code == 200, approved.text

    started = staff.request("POST", f"/api/campaigns/{campaign['id']}/compiles",
                            json={"formats": ["landscape"]})
    assert started.status_code == 202, started.text
    done = _wait_json(staff, f"/api/compiles/{started.json()['id']}", {"done", "failed"},
                      migrated, timeout=600)
    assert done["status"] == "done", (done["error_code"], done["error"], migrated.logs())
    outputs = {o["name"]: o for o in done["outputs"]}
    video = tmp_path / "video.mp4"
    video.write_bytes(staff.request("GET", outputs["video-landscape.mp4"]["url"]).content)
    info = ffprobe(video)
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert (streams["video"]["width"], streams["video"]["height"]) == (1920, 1080)
    assert "audio" in streams and float(info["format"]["duration"]) > 3
    srt = staff.request("GET", outputs["subtitles/ur.srt"]["url"]).text
    assert "گھر پر رہیں" in srt


def _example(tmp: Path) -> Path:
    """A copy of examples/stay-at-home with its clips made (espeak-ng, on the host)."""
    folder = tmp / "stay-at-home"
    shutil.copytree(ROOT / "examples" / "stay-at-home", folder,
                    ignore=shutil.ignore_patterns("clips", "logo.png", "out"))
    spec = importlib.util.spec_from_file_location("image_make_clips", folder / "make_clips.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    assert module.main([]) == 0
    return folder


def test_compile_of_the_example_runs_with_no_network(image: str, tmp_path: Path) -> None:
    campaign = _example(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)  # written by user 10001 in the container
    started = time.monotonic()
    done = docker("run", "--rm", "--network", "none", *HARDENING,
                  "-v", f"{campaign}:/campaign:ro", "-v", f"{out}:/out", image,
                  "compile", "/campaign/campaign.yaml", "-o", "/out", "--quiet",
                  timeout=900)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for fmt, size in (("landscape", (1920, 1080)), ("portrait", (1080, 1920))):
        videos = sorted(out.rglob(f"*{fmt}*.mp4"))
        assert videos, sorted(p.name for p in out.rglob("*"))
        info = ffprobe(videos[0])
        streams = {s["codec_type"]: s for s in info["streams"]}
        assert (streams["video"]["width"], streams["video"]["height"]) == size
        assert "audio" in streams
    report = json.loads(next(out.rglob("report.json")).read_text(encoding="utf-8"))
    assert {c["language"] for c in report["clips"]} >= {"ur", "pl", "pa-Guru", "bn"}
    print(f"compile in the container: {seconds:.1f} s")
