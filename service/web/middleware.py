"""Security headers on every response, and refusal of cross-site writes (plain ASGI
middlewares, so uploads stream through).

The headers are added outside Starlette's error handling (see ``ChorusApp`` in app.py), so
a 500 answer carries them too.

The Content-Security-Policy allows nothing from other origins and no inline scripts or
styles: every script and style is served from ``/static``. ``blob:`` is allowed for media so
the leader page can preview a recording before upload. A route may set its own
``Referrer-Policy`` or ``Cache-Control`` (the leader link sends ``no-referrer``/``no-store``);
these defaults only fill in what a route did not set.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

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


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` in lower case, or None if it has none."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme.lower()}://{host}{suffix}"


class SameOriginMiddleware:
    """Refuses a state-changing request (POST, PUT, PATCH, DELETE) sent by another site.

    Browsers say where a request comes from. Modern ones send ``Sec-Fetch-Site``: only
    ``same-origin`` (or ``none``: typed by the person) is let through. Without it, the
    ``Origin`` (or ``Referer``) must be the public URL's origin or the ``Host`` the request
    was sent to. ``Origin: null`` alone cannot be judged (browsers send it for a form posted
    from a ``no-referrer`` page, as the leader's link pages are) and passes, as does a request
    with no such header at all (curl, scripts, tus from a phone app): only a browser carries
    another site's page with it, and it names it. A refused request gets 403 before any
    route runs. This backs up the CSRF tokens and covers the leader pages and tus, which have
    no CSRF token.
    """

    def __init__(self, app: ASGIApp, *, public_url: str,
                 refuse: Callable[[Request, str], Response]) -> None:
        self.app = app
        self.public_origin = _origin_of(public_url)
        self.refuse = refuse

    def _same_origin(self, scope: Scope, claimed: str) -> bool:
        origin = _origin_of(claimed)
        if origin is None:
            return False
        if origin == self.public_origin:
            return True
        host = Headers(scope=scope).get("host")
        scheme = str(scope.get("scheme", "http"))
        return host is not None and origin == _origin_of(f"{scheme}://{host}")

    def _allowed(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None:
            return fetch_site.strip().lower() in ("same-origin", "none")
        origin = headers.get("origin")
        if origin is not None and origin.strip().lower() != "null":
            return self._same_origin(scope, origin)
        referer = headers.get("referer")
        if origin is None and referer:
            return self._same_origin(scope, referer)
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        if not self._allowed(scope):
            request = Request(scope, receive)
            response = self.refuse(
                request,
                "This change was refused because it was sent from another website's page. "
                "Open Chorus at its own address and try again.",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
