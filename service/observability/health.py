"""Readiness checks: can this process serve requests right now?

``/healthz`` (liveness) deliberately checks nothing but the process itself: an orchestrator
restarts a container whose liveness fails, and restarting every web pod because the database
blinked would turn a short outage into a long one. ``/readyz`` (readiness) checks what a
request needs: the database answers ``SELECT 1``, the object store is reachable, and the
broker answers when one is configured. A failing readiness only takes the pod out of the
load balancer until it recovers.

Why threads and a deadline: drivers have their own, sometimes very long, connect timeouts
(boto3 retries, a PostgreSQL host that drops packets). Each check runs in a worker thread
and the caller waits at most ``timeout`` seconds for it, so ``/readyz`` always answers
quickly, naming the check that failed or timed out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from service.db import get_engine
from service.settings import Settings
from service.storage import get_store

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
"""How long each readiness check may take before it counts as failed."""

STORAGE_PROBE_KEY = "chorus-readyz-probe"
"""A key looked up (never written) to prove the local store's folder is reachable."""

_EXECUTOR = ThreadPoolExecutor(max_workers=8, thread_name_prefix="chorus-readyz")


@dataclass(frozen=True)
class CheckResult:
    """One dependency's answer: ``ok``, how long it took, and why it failed or was skipped."""

    name: str
    ok: bool
    seconds: float
    error: str | None = None
    skipped: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "ms": round(self.seconds * 1000, 1)}
        if self.error is not None:
            data["error"] = self.error
        if self.skipped is not None:
            data["skipped"] = self.skipped
        return data


@dataclass(frozen=True)
class Readiness:
    """Every check's result; ready only when none failed."""

    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> list[str]:
        return [check.name for check in self.checks if not check.ok]

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not ready",
            "failed": self.failed,
            "checks": {check.name: check.as_json() for check in self.checks},
        }


def _describe(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}"[:300] if message else type(exc).__name__


# --- the checks -------------------------------------------------------------------------------


def check_database(settings: Settings, timeout: float) -> None:
    """``SELECT 1`` on the configured database (through the process-wide pool)."""
    with get_engine(settings).connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()


def s3_probe_client(settings: Settings, timeout: float) -> Any:
    """A boto3 client for readiness only: one attempt, short timeouts.

    The store's own client retries patiently (right for uploads); a probe must not, or a
    down S3 endpoint would keep probe threads busy for minutes.
    """
    import boto3
    from botocore.config import Config

    from service.storage.factory import _secret

    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url or None,
        region_name=settings.s3_region or None,
        aws_access_key_id=_secret(settings.s3_access_key_id),
        aws_secret_access_key=_secret(settings.s3_secret_access_key),
        config=Config(connect_timeout=timeout, read_timeout=timeout,
                      retries={"max_attempts": 1, "mode": "standard"},
                      s3={"addressing_style": "path"} if settings.s3_endpoint_url else None),
    )


def check_storage(settings: Settings, timeout: float, *, s3_client: Any = None) -> None:
    """The object store answers: S3 ``HeadBucket`` (the bucket exists and the credentials
    work), or the local store's folder can be made and read (a missing or read-only volume
    fails here)."""
    if settings.storage_backend == "s3":
        client = s3_client if s3_client is not None else s3_probe_client(settings, timeout)
        client.head_bucket(Bucket=settings.s3_bucket)
        return
    store = get_store(settings)  # the local store makes its folder if it can
    root = Path(settings.storage_root)
    if not root.is_dir():
        raise FileNotFoundError(f"the object store folder {root} is missing")
    store.exists(STORAGE_PROBE_KEY)


def check_broker(settings: Settings, timeout: float) -> None:
    """The configured Redis or RabbitMQ server accepts a connection and answers."""
    if settings.broker == "redis":
        import redis

        client = redis.Redis.from_url(
            settings.broker_url or "redis://127.0.0.1:6379/0",
            socket_connect_timeout=timeout, socket_timeout=timeout,
        )
        try:
            if not client.ping():
                raise ConnectionError("redis did not answer PING")
        finally:
            client.close()
    elif settings.broker == "rabbitmq":
        import pika

        params = pika.URLParameters(settings.broker_url or "amqp://guest:guest@127.0.0.1:5672/")
        params.socket_timeout = timeout
        params.blocked_connection_timeout = timeout
        params.stack_timeout = timeout
        params.connection_attempts = 1
        params.retry_delay = 0
        connection = pika.BlockingConnection(params)
        connection.close()


# --- running them -----------------------------------------------------------------------------


def _timed(check: Callable[[], None]) -> float:
    started = time.monotonic()
    check()
    return time.monotonic() - started


def run_checks(checks: dict[str, Callable[[], None]], timeout: float) -> list[CheckResult]:
    """Run every check at once in worker threads; each fails if it raises or is not done
    ``timeout`` seconds after they all started (a hung one is abandoned, not waited for)."""
    started = time.monotonic()
    deadline = started + timeout
    futures = {name: _EXECUTOR.submit(_timed, check) for name, check in checks.items()}
    results: list[CheckResult] = []
    for name, future in futures.items():
        try:
            seconds = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            future.cancel()
            log.warning("readiness check %s timed out after %g s", name, timeout)
            results.append(CheckResult(name, False, time.monotonic() - started,
                                       error=f"timed out after {timeout:g} s"))
        except Exception as exc:
            log.warning("readiness check %s failed: %s", name, _describe(exc))
            results.append(CheckResult(name, False, time.monotonic() - started,
                                       error=_describe(exc)))
        else:
            results.append(CheckResult(name, True, seconds))
    return results


def check_readiness(
    settings: Settings,
    *,
    s3_client: Any = None,
    timeout: float = CHECK_TIMEOUT_SECONDS,
) -> Readiness:
    """Check the database, the object store and (when configured) the broker, in parallel.

    ``s3_client``: a client from :func:`s3_probe_client`, kept by the caller (building one
    costs tens of milliseconds); made per call when not given.
    """
    checks: dict[str, Callable[[], None]] = {
        "database": lambda: check_database(settings, timeout),
        "storage": lambda: check_storage(settings, timeout, s3_client=s3_client),
    }
    if settings.broker != "inprocess":
        checks["broker"] = lambda: check_broker(settings, timeout)
    results = run_checks(checks, timeout)
    if settings.broker == "inprocess":
        results.append(CheckResult("broker", True, 0.0, skipped="in-process broker"))
    return Readiness(results)
