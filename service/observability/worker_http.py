"""``/healthz`` and ``/metrics`` for a ``chorus worker`` process (which has no web app).

A worker's stage durations live in the worker's memory, so Prometheus scrapes each worker
pod (the setting ``metrics_port``, ``CHORUS_METRICS_PORT``, default 9200).
``chorus worker --processes N`` forks N processes that cannot share one port: start this
server once, in the parent, and set ``PROMETHEUS_MULTIPROC_DIR`` to an empty writable
folder before any process imports ``prometheus_client``; the server then adds up every
process's histogram files (prometheus_client's multiprocess mode). Job counts and queue
depth are the web app's to report (they come from the database and broker, not one worker).
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from service.settings import get_settings


def worker_registry() -> CollectorRegistry:
    """Every process's metrics in multiprocess mode, else this process's default registry."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


class _Handler(BaseHTTPRequestHandler):
    registry: CollectorRegistry = REGISTRY

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            body, status, ctype = b"ok\n", 200, "text/plain; charset=utf-8"
        elif path == "/metrics":
            body, status, ctype = generate_latest(self.registry), 200, CONTENT_TYPE_LATEST
        else:
            body, status, ctype = b"not found\n", 404, "text/plain; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Scrapes every 15 s are not worth a log line each."""


def start_worker_http_server(port: int | None = None, host: str = "0.0.0.0"  # noqa: S104
                             ) -> ThreadingHTTPServer | None:
    """Serve ``/healthz`` and ``/metrics`` on a daemon thread; ``None`` when the port is 0.

    Listens on every interface by default because Prometheus and the kubelet reach the pod
    from outside; the port carries no personal data.
    """
    port = get_settings().metrics_port if port is None else port
    if port == 0:
        return None
    handler = type("WorkerHandler", (_Handler,), {"registry": worker_registry()})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="chorus-worker-http",
                     daemon=True).start()
    return server
