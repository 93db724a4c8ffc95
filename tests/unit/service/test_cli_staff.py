"""`chorus migrate`, `chorus user add` and `chorus serve` (a real server on loopback)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service.cli import main
from service.db import dispose_engines, unit_of_work
from service.models import Organisation, User
from service.security import verify_password
from service.settings import Settings, get_settings
from tests.integration.netutil import free_port


@pytest.fixture
def db_env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHORUS_DATABASE_URL", url)
    monkeypatch.delenv("CHORUS_PASSWORD", raising=False)
    get_settings.cache_clear()
    yield Settings(database_url=url)
    get_settings.cache_clear()
    dispose_engines()


def test_migrate_then_user_add_creates_organisation_and_admin(db_env, monkeypatch, capsys):
    assert main(["migrate"]) == 0
    monkeypatch.setenv("CHORUS_PASSWORD", "a long enough password")
    assert main(["user", "add", "--email", "Ann@Leeds.gov.uk", "--name", "Ann",
                 "--organisation", "Leeds City Council"]) == 0
    assert "created admin ann@leeds.gov.uk in new organisation 'Leeds City Council'" in (
        capsys.readouterr().out)
    monkeypatch.delenv("CHORUS_PASSWORD")
    monkeypatch.setattr(sys, "stdin", io.StringIO("another long password\n"))
    assert main(["user", "add", "--email", "ed@leeds.gov.uk", "--name", "Ed", "--role",
                 "editor", "--organisation", "Leeds City Council", "--password-stdin"]) == 0
    with unit_of_work(db_env) as db:
        assert len(db.scalars(select(Organisation)).all()) == 1
        users = {u.email: u for u in db.scalars(select(User))}
        assert users["ann@leeds.gov.uk"].role == "admin"
        assert users["ed@leeds.gov.uk"].role == "editor"
        assert verify_password(users["ed@leeds.gov.uk"].password_hash, "another long password")


def test_user_add_refuses_duplicates_and_short_passwords(db_env, monkeypatch, capsys):
    main(["migrate"])
    monkeypatch.setenv("CHORUS_PASSWORD", "a long enough password")
    args = ["user", "add", "--email", "ann@leeds.gov.uk", "--name", "Ann",
            "--organisation", "Leeds"]
    assert main(args) == 0
    assert main(args) == 2
    assert "cannot be used for a new account" in capsys.readouterr().err
    monkeypatch.setenv("CHORUS_PASSWORD", "short")
    assert main(["user", "add", "--email", "b@leeds.gov.uk", "--name", "B",
                 "--organisation", "Elsewhere"]) == 2
    assert "at least 10 characters long" in capsys.readouterr().err
    monkeypatch.setenv("CHORUS_PASSWORD", "aaaaaaaaaaaa")
    assert main(["user", "add", "--email", "b@leeds.gov.uk", "--name", "B",
                 "--organisation", "Elsewhere"]) == 2
    assert "too easy to guess" in capsys.readouterr().err
    with unit_of_work(db_env) as db:
        assert [o.name for o in db.scalars(select(Organisation))] == ["Leeds"]


def test_serve_migrates_sqlite_and_answers(tmp_path):
    port = free_port()
    env = {**os.environ, "CHORUS_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
           "CHORUS_STORAGE_ROOT": str(tmp_path / "objects"), "CHORUS_DATA_DIR": str(tmp_path),
           "CHORUS_WORKER_THREADS": "0"}
    chorus = Path(sys.executable).parent / "chorus"
    process = subprocess.Popen([str(chorus), "serve", "--port", str(port)], env=env,
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "chorus serve did not start in 30 s"
                time.sleep(0.2)
        assert response.json() == {"status": "ok"}
        login = httpx.get(f"http://127.0.0.1:{port}/login")
        assert login.status_code == 200 and "Sign in" in login.text
        assert "server" not in login.headers
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert (tmp_path / "serve.db").exists()


def test_production_refuses_the_development_secret_and_http():
    with pytest.raises(RuntimeError, match="CHORUS_SECRET_KEY"):
        Settings(environment="production", public_url="https://c.example.org").check_production()
    with pytest.raises(RuntimeError, match="https"):
        Settings(environment="production", secret_key="x" * 40,
                 public_url="http://c.example.org").check_production()
    Settings(environment="production", secret_key="x" * 40,
             public_url="https://c.example.org").check_production()
