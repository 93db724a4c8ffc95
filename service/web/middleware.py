"""Security headers on every response (a plain ASGI middleware, so uploads stream through).

The Content-Security-Policy allows nothing from other origins and no inline scripts or
styles: every script and style is served from ``/static``. ``blob:`` is allowed for media so
the leader page can preview a recording before upload. A route may set its own
``Referrer-Policy`` or ``Cache-Control`` (the leader link sends ``no-referrer``/``no-store``);
these defaults only fill in what a route did not set.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Adds CSP, nosniff, Referrer-Policy, frame denial and (on HTTPS) HSTS."""

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault(
                    "Permissions-Policy", "camera=(self), microphone=(self), geolocation=()"
                )
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if not is_static:
                    headers.setdefault("Cache-Control", "no-store")
                if self.https:
                    headers.setdefault(
                        "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)
