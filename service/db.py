"""Engine, session factory and the one place that commits or rolls back.

Requests get a session from :func:`transaction` (through ``service.web.deps.get_db``): it
commits once when the request's handler has finished without an error, and rolls back
otherwise. Workers and the command line use :func:`unit_of_work`. Service and repository code
only ``flush()``; it never commits. Work that must only happen once the data is durable (e.g.
sending a queue message) is registered with :func:`after_commit`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings, get_settings

_AFTER_COMMIT_KEY = "chorus_after_commit"
_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker[Session]] = {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers and one writer work at once; SQLite ignores foreign keys unless asked."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_engine(database_url: str) -> Engine:
    """A new engine for ``database_url`` (SQLite: folder created, WAL and foreign keys on)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, future=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, future=True)


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine for the settings' database URL (one per URL)."""
    url = (settings or get_settings()).database_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def get_sessionmaker(settings: Settings | None = None) -> sessionmaker[Session]:
    """The session factory bound to :func:`get_engine` (objects stay usable after commit)."""
    url = (settings or get_settings()).database_url
    engine = get_engine(settings)
    with _lock:
        factory = _factories.get(url)
        if factory is None:
            factory = _factories[url] = sessionmaker(
                bind=engine, expire_on_commit=False, autoflush=True
            )
        return factory


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before a process forks)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _factories.clear()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` after ``session``'s unit of work commits; dropped on rollback."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit once at the end if no error, else roll back; then close.

    Callbacks registered with :func:`after_commit` run after a successful commit.
    """
    session = factory()
    try:
        yield session
        session.commit()
        callbacks: list[Callable[[], None]] = session.info.pop(_AFTER_COMMIT_KEY, [])
        for callback in callbacks:
            callback()
    except BaseException:
        session.info.pop(_AFTER_COMMIT_KEY, None)
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def unit_of_work(settings: Settings | None = None) -> Iterator[Session]:
    """A session for workers and the command line; commits once at the end, as requests do."""
    with transaction(get_sessionmaker(settings)) as session:
        yield session
