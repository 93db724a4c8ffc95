"""Starting background work: by actor name, with ids only, after the data is committed.

Why after commit: a worker that receives ``compile.run(compile_id=...)`` before the request's
transaction is durable would find no row (or an old one). :func:`enqueue` therefore only
records the message in the session (``session.info``); an SQLAlchemy ``after_commit`` listener
sends everything recorded once the commit succeeded, and a rollback drops it.

Why ids only: the database is the truth. A message that carried data could disagree with the
row by the time it runs, and a message lost with the process (the in-process broker) must be
re-creatable from the database alone, which :func:`resume_due_work` does on start.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import dramatiq
from sqlalchemy import event as sa_event
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from service import queue
from service.db import unit_of_work
from service.models import Clip, Compile, CompileClip, utcnow
from service.settings import Settings, get_settings
from workers.media.workdirs import prepare_process

log = logging.getLogger(__name__)

_PENDING_KEY = "chorus_pending_jobs"

COMPILE_LEASE_SECONDS = 15.0
"""The default ``Settings.stage_lease_seconds``: a running stage whose heartbeat is older is
presumed abandoned (its worker died) and may be taken over."""

DUE_CLIP_STATUSES = ("received", "probing")
DUE_COMPILE_STATUSES = ("queued", "running", "joining")


def enqueue(actor_name: str, /, *, session: Session | None = None, **ids: str) -> None:
    """Send ``actor_name(**ids)`` once ``session`` commits (at once when no session is given).

    ``ids`` must be plain id strings (``clip_id=...``): messages never carry data. Pass the
    request's or unit of work's session; without one the message goes out immediately, which
    is only right when nothing uncommitted is involved (e.g. resuming work at start).
    """
    queue.queue_for(actor_name)  # fail now, in the request, on a misspelt name
    for name, value in ids.items():
        if not isinstance(value, str):
            raise TypeError(f"job argument {name} must be an id string, not {type(value)}")
    if session is None:
        _send(actor_name, dict(ids))
        return
    session.info.setdefault(_PENDING_KEY, []).append((actor_name, dict(ids)))


def pending(session: Session) -> list[tuple[str, dict[str, str]]]:
    """The messages waiting for ``session`` to commit (for tests and debugging)."""
    return list(session.info.get(_PENDING_KEY, []))


def _send(actor_name: str, kwargs: dict[str, Any]) -> None:
    settings = get_settings()
    broker = queue.get_broker(settings)
    queue.send(broker, actor_name, kwargs, prefix=settings.queue_prefix)


@sa_event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    jobs: list[tuple[str, dict[str, Any]]] = session.info.pop(_PENDING_KEY, [])
    for actor_name, kwargs in jobs:
        try:
            _send(actor_name, kwargs)
        except Exception:  # the row is committed: resume_due_work will send it again
            log.exception("could not send %s %s; it will be resumed on the next start",
                          actor_name, kwargs)


@sa_event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


# --- resuming ---------------------------------------------------------------------------------


@dataclass
class Resumed:
    """What :func:`resume_due_work` sent again."""

    clips: list[str] = field(default_factory=list)
    compiles: list[str] = field(default_factory=list)


def resume_due_work(settings: Settings | None = None, *, embedded: bool = True) -> Resumed:
    """Re-enqueue every clip and compile that is due but not done.

    ``embedded``: this process is the only worker (in-process broker), so anything still
    marked running was running here before a restart and is certainly abandoned: a running
    compile goes back to ``queued`` (it is started again, counting an attempt), its running
    clips to ``queued``, a join in progress loses its claim. With a real broker
    (``embedded=False``) only work whose heartbeat lease ran out is taken back; work another
    worker is doing keeps its claim. Running a stage twice is harmless: every stage is
    idempotent and claims its row first.
    """
    settings = settings or get_settings()
    resumed = Resumed()
    cutoff = utcnow() - timedelta(seconds=settings.stage_lease_seconds)
    lapsed = or_(Compile.heartbeat_at.is_(None), Compile.heartbeat_at < cutoff)
    with unit_of_work(settings) as session:
        if embedded:
            session.execute(
                update(Compile)
                .where(Compile.status == "running")
                .values(status="queued", heartbeat_at=None)
            )
            session.execute(
                update(Compile).where(Compile.status == "joining").values(heartbeat_at=None)
            )
            session.execute(
                update(CompileClip)
                .where(CompileClip.status == "running")
                .values(status="queued", heartbeat_at=None)
            )
        due = or_(
            Compile.status == "queued",
            (Compile.status.in_(("running", "joining"))) & lapsed,
        )
        found = session.execute(
            select(Compile.id, Compile.status).where(due).order_by(Compile.created_at)
        ).all()
        resumed.compiles = [compile_id for compile_id, _ in found]
        resumed.clips = list(
            session.scalars(
                select(Clip.id)
                .where(Clip.status.in_(DUE_CLIP_STATUSES))
                .order_by(Clip.created_at)
            )
        )
        for clip_id in resumed.clips:
            enqueue("clip.probe", session=session, clip_id=clip_id)
        for compile_id, status in found:
            actor = "compile.join" if status == "joining" else "compile.run"
            enqueue(actor, session=session, compile_id=compile_id)
    if resumed.clips or resumed.compiles:
        log.info("resumed %d clip(s) and %d compile(s)", len(resumed.clips),
                 len(resumed.compiles))
    return resumed


# --- embedded workers -------------------------------------------------------------------------


def declare_actors(broker: dramatiq.Broker, settings: Settings) -> None:
    """Import the actor modules by name and declare their actors on ``broker``.

    By name, so the service never imports ``workers`` code directly (the direction rule):
    each module in :data:`service.queue.ACTOR_MODULES` exposes ``declare_actors``.
    """
    for module_name in queue.ACTOR_MODULES:
        module = importlib.import_module(module_name)
        module.declare_actors(broker, settings)


@dataclass
class EmbeddedWorkers:
    """Workers running inside ``chorus serve``; :meth:`stop` on shutdown."""

    worker: dramatiq.Worker
    resumed: Resumed

    def stop(self, timeout_ms: int = 10_000) -> None:
        """Stop consuming; work in progress gets ``timeout_ms`` to finish (then resumes later)."""
        self.worker.stop(timeout=timeout_ms)


def start_embedded_workers(
    settings: Settings | None = None, *, resume: bool = True
) -> EmbeddedWorkers | None:
    """Start the in-process workers (``settings.worker_threads`` threads) and resume due work.

    Returns ``None`` when a real broker is configured (then ``chorus worker`` processes do the
    work and ``chorus serve`` is the web side only) or when ``worker_threads`` is 0.
    """
    settings = settings or get_settings()
    if not queue.is_embedded(settings) or settings.worker_threads <= 0:
        return None
    queue.check_consistency(settings)
    prepare_process(Path(settings.data_dir) / "work")
    broker = queue.get_broker(settings)
    declare_actors(broker, settings)
    worker = dramatiq.Worker(broker, worker_threads=settings.worker_threads, worker_timeout=200)
    worker.start()
    resumed = resume_due_work(settings, embedded=True) if resume else Resumed()
    return EmbeddedWorkers(worker=worker, resumed=resumed)


# --- worker processes (`chorus worker`) --------------------------------------------------------

WORKER_BOOT = "workers.actors:boot"
"""What each worker process imports and calls to get its broker and actors (by name)."""


class WorkerConfigError(RuntimeError):
    """``chorus worker`` cannot start with these settings (the message says why)."""


def run_worker_processes(settings: Settings | None = None, *, processes: int | None = None,
                         threads: int | None = None, resume: bool = True,
                         shutdown_timeout_ms: int = 30_000) -> int:
    """Run Dramatiq worker processes for the configured broker until stopped; the exit code.

    Checks the settings first (a clear error instead of workers that lose or steal work),
    re-enqueues due work once (not once per process), then hands over to Dramatiq's own
    process supervisor: ``processes`` OS processes of ``threads`` threads each, every one
    booted by :data:`WORKER_BOOT`. SIGTERM stops them gracefully; if one dies, the others are
    stopped too and the exit code says so (a supervisor such as Kubernetes restarts them).
    """
    from dramatiq import cli as dramatiq_cli

    from service.db import dispose_engines

    settings = settings or get_settings()
    if queue.is_embedded(settings):
        raise WorkerConfigError(
            "CHORUS_BROKER is 'inprocess': the workers run inside `chorus serve`. Set "
            "CHORUS_BROKER=redis or rabbitmq (and CHORUS_BROKER_URL) to run separate workers.")
    try:
        queue.check_consistency(settings)
    except queue.BrokerConfigError as exc:
        raise WorkerConfigError(str(exc)) from exc
    if resume:
        resume_due_work(settings, embedded=False)
    # Nothing opened here may leak into the forked processes (pika connections are not
    # fork-safe; each process builds its own broker and database pool in WORKER_BOOT).
    broker = queue.get_broker(settings)
    broker.close()
    queue.set_broker(None)
    dispose_engines()
    argv = [WORKER_BOOT, "--processes", str(processes or settings.worker_processes),
            "--threads", str(threads or max(1, settings.worker_threads)),
            "--worker-shutdown-timeout", str(shutdown_timeout_ms)]
    args = dramatiq_cli.make_argument_parser().parse_args(argv)
    return int(dramatiq_cli.main(args) or 0)
