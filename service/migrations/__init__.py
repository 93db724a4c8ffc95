"""Alembic migrations, and :func:`upgrade` to apply them from code (CLI, tests, serve).

The Alembic configuration is built here rather than read from ``alembic.ini`` so migrations
work from an installed package too; ``alembic.ini`` at the repository root is for developers
running ``alembic revision --autogenerate`` by hand.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from service.settings import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(settings: Settings | None = None) -> Config:
    """An Alembic config for ``settings``' database (URL passed to env.py as an attribute)."""
    settings = settings or get_settings()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = settings.database_url
    return config


def upgrade(settings: Settings | None = None, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings | None = None, revision: str = "base") -> None:
    """Undo migrations down to ``revision`` (tests check every migration can be undone)."""
    command.downgrade(alembic_config(settings), revision)
