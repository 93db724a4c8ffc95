"""Alembic migrations apply to an empty SQLite database and match the models."""

from __future__ import annotations

from sqlalchemy import text

from service.db import dispose_engines, get_engine
from service.settings import Settings
from tests.fixtures.migrations import assert_migrations_match_models


def test_migrations_apply_on_empty_sqlite_and_match_models(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert_migrations_match_models(settings)
        with get_engine(settings).connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        dispose_engines()
