"""``/healthz``, ``/readyz`` and ``/metrics`` for the web app.

Not under ``/api/``: orchestrators and Prometheus call these, not people. ``/metrics`` shows
job counts but no personal data; still, keep it off the public internet (the reverse proxy
in infra/README.md refuses it from outside).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from service.observability.health import check_readiness, s3_probe_client
from service.observability.metrics import make_registry
from service.settings import Settings

router = APIRouter(include_in_schema=False)

_NO_STORE = {"Cache-Control": "no-store"}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _cached(request: Request, name: str, make: Any) -> Any:
    """One object per app, made on first use (the metrics registry, the S3 probe client)."""
    value = getattr(request.app.state, name, None)
    if value is None:
        value = make()
        setattr(request.app.state, name, value)
    return value


@router.get("/healthz")
def healthz() -> JSONResponse:
    """Liveness: the process answers. Checks no dependency (see health.py for why).

    Same body as the older ``/healthz`` in ``service/web/pages.py`` (registered first, so it
    answers while both exist).
    """
    return JSONResponse({"status": "ok"}, headers=_NO_STORE)


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when the database, storage and broker answer; 503 naming what failed."""
    settings = _settings(request)
    s3_client = None
    if settings.storage_backend == "s3":
        s3_client = _cached(request, "observability_s3_probe",
                            lambda: s3_probe_client(settings, 2.0))
    readiness = check_readiness(settings, s3_client=s3_client)
    return JSONResponse(readiness.as_json(), status_code=200 if readiness.ready else 503,
                        headers=_NO_STORE)


@router.get("/metrics")
def metrics(request: Request) -> PlainTextResponse:
    """Prometheus text exposition: jobs, queue depth, stage durations, process."""
    settings = _settings(request)
    registry: CollectorRegistry = _cached(request, "observability_registry",
                                          lambda: make_registry(settings))
    return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST,
                             headers=_NO_STORE)
