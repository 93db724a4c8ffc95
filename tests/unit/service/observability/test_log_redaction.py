"""No invite token and no client address in any log line (access log and the app's own).

Runs the app in a real uvicorn server on a free loopback port, as ``chorus serve`` does,
opens a leader's link and its pages, and scans everything logged.
"""

from __future__ import annotations

import io
import logging
import threading
import time

import httpx
import uvicorn

from service.observability.logs import configure_logging
from tests.fixtures.staff import create_campaign, create_leader, env, fast_hashing  # noqa: F401
from tests.integration.netutil import free_port


def _serve(app, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           proxy_headers=False, server_header=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.02)
    return server, thread


def test_tokens_and_addresses_never_reach_the_log(env):  # noqa: F811
    staff = env.signed_in("ann@leeds.gov.uk", "editor")
    cid = create_campaign(staff)["id"]
    leader = create_leader(staff)
    created = staff.api("POST", f"/api/campaigns/{cid}/invites", json={"leader_id": leader["id"]})
    assert created.status_code == 201, created.text
    link = created.json()["link"]
    token = link.rsplit("/", 1)[1]
    assert created.json()["qr_svg_url"].startswith("data:image/svg+xml;base64,")

    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(level="INFO", fmt="json", stream=stream)
    port = free_port()
    server, thread = _serve(env.app, port)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=20) as client:
            for path in (f"/i/{token}", f"/i/{token}/consent", f"/i/{token}/record?lang=ur",
                         f"/i/{token}/thanks", f"/i/{token}x", f"/nowhere?token={token}"):
                client.get(path)
        logging.getLogger("service.test").warning("looked at /i/%s and ?invite=%s", token, token)
        try:
            raise RuntimeError(f"failed on /i/{token}/consent")
        except RuntimeError:
            logging.getLogger("service.test").exception("boom")
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    output = stream.getvalue()
    assert '"logger": "uvicorn.access"' in output and "/i/[redacted]" in output, output[:2000]
    assert output.count("uvicorn.access") >= 6
    assert token not in output
    assert token[:12] not in output
    assert "127.0.0.1:" not in output.replace(f"127.0.0.1:{port}", "")  # no client address
    assert "[redacted]" in output.split('"boom"', 1)[1]  # the traceback is redacted too
