"""The worker's own /healthz and /metrics server, and the HEALTHCHECK probe."""

from __future__ import annotations

import socket
import urllib.request
import uuid

from service.observability import observe_stage
from service.observability.probe import main as probe_main
from service.observability.worker_http import start_worker_http_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_worker_server_health_and_metrics() -> None:
    port = free_port()
    server = start_worker_http_server(port, host="127.0.0.1")
    assert server is not None
    try:
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/healthz", timeout=3) as response:
            assert response.status == 200 and response.read() == b"ok\n"
        stage = f"worker.test.{uuid.uuid4().hex[:6]}"
        observe_stage(stage, 1.5)
        with urllib.request.urlopen(f"{base}/metrics", timeout=3) as response:
            text = response.read().decode()
        assert f'chorus_stage_duration_seconds_count{{outcome="ok",stage="{stage}"}} 1.0' in text
        assert probe_main([f"{base}/healthz"]) == 0
        assert probe_main([f"{base}/nothing-here"]) == 1
    finally:
        server.shutdown()
        server.server_close()
    assert probe_main([f"http://127.0.0.1:{port}/healthz"]) == 1  # nothing listens now


def test_port_zero_disables_the_server() -> None:
    assert start_worker_http_server(0) is None
