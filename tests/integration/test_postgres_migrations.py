"""Alembic migrations apply to an empty PostgreSQL database (the server on this machine)."""

from __future__ import annotations

from sqlalchemy import text

from service.db import get_engine
from service.settings import Settings
from tests.fixtures.migrations import assert_migrations_match_models
from tests.fixtures.staff import throwaway_postgres


def test_migrations_apply_on_empty_postgres_and_match_models():
    with throwaway_postgres() as url:
        settings = Settings(database_url=url)
        assert_migrations_match_models(settings)
        with get_engine(settings).connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar().startswith(
                "chorus_test_")
            tz_type = conn.execute(text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'invites' AND column_name = 'expires_at'")).scalar()
            assert tz_type == "timestamp with time zone"
