"""A limit on every request body, counted as the bytes stream in (a plain ASGI middleware).

Why here and not per route: a route that reads a form or JSON has already buffered the body
by the time it could check its size, and an attacker needs no account to send one. The limit
is known before the app runs: a declared ``Content-Length`` beyond it is answered 413 at once;
a body without one (chunked) is counted as it arrives and stopped at the first byte past it.

Three sizes, from settings: a tus ``PATCH`` carries one chunk (``tus_max_chunk_bytes``), the
staff multipart upload carries whole recordings (``max_upload_bytes``), everything else
(forms, JSON, a campaign's logo) ``max_request_bytes``.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.settings import Settings
from service.web.errors import WebError

_TUS_CHUNK = re.compile(r"/uploads/[^/]+/?")
_STAFF_UPLOAD = re.compile(r"/campaigns/[^/]+/clips/upload/?")


class RequestTooLarge(WebError):
    """The body is larger than this address accepts."""

    status_code = 413
    code = "request_too_large"


def limit_for(method: str, path: str, settings: Settings) -> int:
    """The most bytes a request to ``method path`` may send."""
    if method == "PATCH" and _TUS_CHUNK.fullmatch(path):
        return settings.tus_max_chunk_bytes
    if method == "POST" and _STAFF_UPLOAD.fullmatch(path):
        return settings.max_upload_bytes
    return settings.max_request_bytes


def too_large_message(limit: int) -> str:
    """What the sender is told (the limit in the unit a person reads)."""
    amount = f"{limit / 1024**2:g} MB" if limit >= 1024**2 else f"{limit / 1024:g} KB"
    return f"The request is too large: this address accepts at most {amount}."


class BodyLimitMiddleware:
    """Refuse request bodies past :func:`limit_for` with 413 and a clear message."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["method"], scope["path"], self.settings)
        html = _wants_html(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit, html)
            return
        received = 0
        exceeded = False
        started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise RequestTooLarge(too_large_message(limit))
            return message

        async def guarded(message: Message) -> None:
            # Whatever the app answers once the limit was hit (a form parser turns any error
            # into "400 error parsing the body") is replaced by the 413 that says why.
            nonlocal started
            if exceeded:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _refuse(send, limit, html)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await _refuse(send, limit, html)


def _wants_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"accept":
            return b"text/html" in value
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _refuse(send: Send, limit: int, html: bool = False) -> None:
    """413 as JSON (API and tus clients) or as a plain sentence (a browser's form post)."""
    if html:
        body, kind = too_large_message(limit).encode("utf-8"), b"text/plain; charset=utf-8"
    else:
        body = json.dumps({"detail": too_large_message(limit), "code": RequestTooLarge.code}
                          ).encode("utf-8")
        kind = b"application/json"
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", kind), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), (b"tus-resumable", b"1.0.0"),
    ]})
    await send({"type": "http.response.body", "body": body})
