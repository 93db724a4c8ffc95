"""Backends for S3's compile integration tests: SQLite + local disk, PostgreSQL + S3 (moto).

PostgreSQL: the machine's server on 127.0.0.1:5432 (user postgres, trust); a throwaway
database per run, dropped afterwards. S3: moto's ThreadedMotoServer on loopback.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from moto.server import ThreadedMotoServer

from tests.integration.netutil import free_port

PG_ADMIN = os.environ.get("CHORUS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database; yields its SQLAlchemy URL; dropped afterwards."""
    name = f"chorus_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        from service.db import dispose_engines

        dispose_engines()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def moto_s3() -> Iterator[dict[str, str]]:
    """A real S3-compatible HTTP server; yields the settings fields that point at it."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield {
            "storage_backend": "s3",
            "s3_bucket": f"chorus-{uuid.uuid4().hex[:8]}",
            "s3_endpoint_url": f"http://127.0.0.1:{port}",
            "s3_region": "us-east-1",
            "s3_access_key_id": "test",
            "s3_secret_access_key": "test",
        }
    finally:
        server.stop()


def env_vars(settings_fields: dict[str, object]) -> dict[str, str]:
    """CHORUS_* environment variables for a child process with the same settings."""
    return {f"CHORUS_{k.upper()}": str(v) for k, v in settings_fields.items()}


def local_files(root: Path, prefix: str) -> list[str]:
    folder = root / prefix
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
