"""Health, readiness, Prometheus metrics and structured logs for every Chorus process.

* :mod:`.health` — the readiness checks (database, object store, broker), each bounded by a
  short timeout so a hung dependency makes ``/readyz`` answer 503 quickly rather than hang.
* :mod:`.metrics` — jobs by stage and state read from the database (the truth), queue depth
  from the broker, and a stage-duration histogram that workers feed.
* :mod:`.logs` — ``configure_logging(settings)``: JSON lines carrying job/clip/compile ids.
* :mod:`.endpoints` — the FastAPI router with ``/healthz``, ``/readyz`` and ``/metrics``.
* :mod:`.worker_http` — the same ``/healthz`` and ``/metrics`` for a ``chorus worker``
  process, which has no web app of its own.
"""

from service.observability.health import CheckResult, Readiness, check_readiness
from service.observability.logs import configure_logging, log_context
from service.observability.metrics import observe_stage, time_stage

__all__ = [
    "CheckResult",
    "Readiness",
    "check_readiness",
    "configure_logging",
    "log_context",
    "observe_stage",
    "time_stage",
]
