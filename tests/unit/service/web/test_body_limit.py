"""Every request body is bounded while it streams: 413 with a sentence that says the limit."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from service.settings import Settings
from service.web.body_limit import limit_for
from tests.fixtures.staff import CAMPAIGN_FORM, StaffEnv, make_env

LIMIT = 256 * 1024


@pytest.fixture
def small(tmp_path: Path, fast_hashing: None) -> Iterator[StaffEnv]:
    built = make_env(tmp_path, max_request_bytes=LIMIT, tus_max_chunk_bytes=64 * 1024)
    yield built
    for client in built.clients:
        client.close()


def test_limits_by_route() -> None:
    settings = Settings(max_request_bytes=10, tus_max_chunk_bytes=20, max_upload_bytes=30)
    assert limit_for("POST", "/login", settings) == 10
    assert limit_for("PATCH", "/uploads/abc", settings) == 20
    assert limit_for("POST", "/campaigns/abc/clips/upload", settings) == 30
    assert limit_for("POST", "/campaigns/abc/clips/upload/../../login", settings) == 10


def test_declared_length_over_the_limit_is_refused_before_the_app_reads(small: StaffEnv
                                                                        ) -> None:
    client = small.client()
    r = client.post("/login", content=b"x" * (LIMIT + 1),
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert r.json()["code"] == "request_too_large"
    assert "at most 0.25 MB" in r.json()["detail"] or "at most 256 KB" in r.json()["detail"]


def test_a_streamed_body_without_a_length_is_stopped_at_the_limit(small: StaffEnv) -> None:
    """Straight through the ASGI app: the server stops asking for body pieces at the limit."""
    pieces_read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pieces_read
        pieces_read += 1
        return {"type": "http.request", "body": b"e=" + b"x" * 65534, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/login", "raw_path": b"/login",
             "query_string": b"", "root_path": "", "scheme": "http", "http_version": "1.1",
             "server": ("testserver", 80), "client": ("127.0.0.1", 5000),
             "headers": [(b"host", b"testserver"),
                         (b"content-type", b"application/x-www-form-urlencoded"),
                         (b"accept", b"application/json")]}
    asyncio.run(small.app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert json.loads(body)["code"] == "request_too_large"
    assert pieces_read <= LIMIT // 65536 + 1, f"read {pieces_read} pieces of 64 KB"


def test_a_huge_logo_is_refused_while_streaming(small: StaffEnv) -> None:
    staff = small.signed_in("ann@leeds.gov.uk", "editor")
    buffer = io.BytesIO()
    Image.effect_noise((700, 700), 100).convert("RGB").save(buffer, "PNG")
    assert buffer.tell() > LIMIT
    r = staff.form("/campaigns/new", CAMPAIGN_FORM,
                   files={"logo": ("logo.png", buffer.getvalue(), "image/png")})
    assert r.status_code == 413
    assert "too large" in r.text
    assert staff.get("/api/campaigns").json() == []


def test_a_tus_patch_is_bounded_by_the_chunk_size(small: StaffEnv) -> None:
    client = small.client()
    r = client.patch("/uploads/whatever", content=b"x" * (64 * 1024 + 1), headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert r.status_code == 413 and r.headers["Tus-Resumable"] == "1.0.0"
