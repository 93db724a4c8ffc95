"""Helpers shared by the stages: the object store, work folders, heartbeats, lineage."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import queue
from service.models import new_id, utcnow
from service.models.render import ObjectLineage
from service.renders.outputs import engine_cache_dir, segment_key
from service.settings import Settings
from service.storage import ObjectStore, get_store
from workers.media.workdirs import process_dir

log = logging.getLogger(__name__)

_stores: dict[tuple[object, ...], ObjectStore] = {}
_stores_lock = threading.Lock()


def _store_key(settings: Settings) -> tuple[object, ...]:
    """What decides which store a settings object means (not its ``id()``: ids are reused
    once an object is freed, which handed one test's store to the next)."""
    return (settings.storage_backend, str(settings.storage_root), settings.s3_bucket,
            settings.s3_endpoint_url, settings.s3_region, settings.s3_access_key_id)


def store_for(settings: Settings) -> ObjectStore:
    """The object store for these settings (one per configuration, reused by threads)."""
    key = _store_key(settings)
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = get_store(settings)
    return store


def work_root(settings: Settings) -> Path:
    """This process's scratch space under the data folder; never shared with stored objects.

    Per process (``work/<host>-<pid>-<start>``), so what a killed worker leaves is removed
    when the next one starts (``workers.media.workdirs``)."""
    return process_dir(Path(settings.data_dir) / "work")


def cache_dir(settings: Settings) -> Path:
    """The engine's cache folder on this machine (prepared clips, segments, file hashes)."""
    return engine_cache_dir(settings.data_dir)


@contextmanager
def scratch(settings: Settings, *parts: str, keep: bool = False) -> Iterator[Path]:
    """A work folder ``work/<parts...>``, removed afterwards unless ``keep``."""
    path = work_root(settings).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


# --- who is working, and proof that it is still alive ---------------------------------------


def worker_id() -> str:
    """``host:pid`` of this worker process: stage rows record it (and tests assert on it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat(threading.Thread):
    """Calls ``beat`` every ``interval`` seconds while a stage runs (heartbeat and progress).

    A failing beat (a busy database) is logged, never raised: it must not kill the stage.
    """

    def __init__(self, name: str, beat: Callable[[], None],
                 interval: float = queue.HEARTBEAT_SECONDS):
        super().__init__(name=name, daemon=True)
        self.beat, self.interval = beat, interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.beat()
            except Exception:
                log.exception("heartbeat %s failed", self.name)

    def stop(self) -> None:
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=10)

    def __enter__(self) -> Heartbeat:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def lease_cutoff(settings: Settings) -> datetime:
    """A running stage whose heartbeat is older than this has lost its claim."""
    return utcnow() - timedelta(seconds=settings.stage_lease_seconds)


def seconds_until_lapse(settings: Settings, heartbeat_at: datetime | None) -> float:
    """How long until a claim with this heartbeat can be taken over (0: now)."""
    if heartbeat_at is None:
        return 0.0
    age = (utcnow() - heartbeat_at).total_seconds()
    return max(0.0, settings.stage_lease_seconds - age)


@dataclass(frozen=True)
class Busy:
    """The stage row is held by a live worker: look again after ``seconds``.

    A second delivery of the same message (a broker requeue, a resume) must not be dropped: if
    the holder has in fact died, nobody else would finish the work. The actor sends the
    message again with this delay, and the next delivery takes the row over or finds it done.
    """

    seconds: float


# --- lineage ----------------------------------------------------------------------------------


def record_lineage(session: Session, object_key: str, clip_ids: Iterable[str], *,
                   kind: str, compile_id: str | None = None) -> None:
    """Record that ``object_key`` was made from ``clip_ids`` (idempotent, race-free).

    ``INSERT ... ON CONFLICT DO NOTHING`` on (object_key, clip_id): two workers storing the
    same content-addressed segment at once both succeed, and one row results.
    """
    rows = [{"id": new_id(), "created_at": utcnow(), "object_key": object_key,
             "clip_id": clip_id, "compile_id": compile_id, "kind": kind}
            for clip_id in dict.fromkeys(clip_ids)]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(ObjectLineage).values(rows).on_conflict_do_nothing(
            index_elements=["object_key", "clip_id"]))
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(ObjectLineage).values(rows).on_conflict_do_nothing(
            index_elements=["object_key", "clip_id"]))
    else:  # pragma: no cover - Chorus supports PostgreSQL and SQLite
        for row in rows:
            exists = session.scalar(select(ObjectLineage.id).where(
                ObjectLineage.object_key == object_key, ObjectLineage.clip_id == row["clip_id"]))
            if exists is None:
                session.add(ObjectLineage(**row))


def objects_of_clip(session: Session, clip_id: str) -> list[str]:
    """Every stored object made (partly) from a clip: what an erasure must delete."""
    return list(session.scalars(
        select(ObjectLineage.object_key).where(ObjectLineage.clip_id == clip_id)
        .order_by(ObjectLineage.object_key)).unique())


class ObjectSegments:
    """The engine's :class:`~workers.media.segments.SegmentStore` over the object store:
    ``segments/<key>.mov``, one copy for every compile and worker."""

    def __init__(self, store: ObjectStore):
        self.store = store

    def fetch(self, key: str, dest: Path) -> bool:
        stored = segment_key(key)
        if not self.store.exists(stored):
            return False
        self.store.get_file(stored, dest)
        return True

    def put(self, key: str, path: Path) -> None:
        stored = segment_key(key)
        if not (self.store.exists(stored) and self.store.size(stored) == path.stat().st_size):
            self.store.put_file(stored, path, "video/quicktime")


class FetchOnly:
    """A segment store that reads but keeps nothing: work whose consent may be withdrawn
    while it renders is stored only after the check (``service.consent.lost_consent``)."""

    def __init__(self, inner: ObjectSegments):
        self.inner = inner

    def fetch(self, key: str, dest: Path) -> bool:
        return self.inner.fetch(key, dest)

    def put(self, key: str, path: Path) -> None:
        """Kept by the caller once the consent check passed."""
