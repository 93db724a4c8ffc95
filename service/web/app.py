"""The web application: ``create_app(settings)`` wires routers, static files and headers.

Routers: staff pages and API (auth, campaigns, leaders, board — S1), the leader's link pages
(invitations) and the tus upload server (uploads — S2), review and compile (clips, renders —
S3). Errors become a clear page for people or ``{"detail", "code"}`` under ``/api/``.
"""

from __future__ import annotations

import logging
from typing import Any, cast
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from service.db import get_sessionmaker
from service.settings import Settings, get_settings
from service.web.body_limit import BodyLimitMiddleware
from service.web.errors import NotAuthenticated, WebError
from service.web.middleware import SameOriginMiddleware, SecurityHeadersMiddleware
from service.web.openapi import ERROR_RESPONSES, TUS_RESPONSES
from service.web.templating import STATIC_DIR, render

log = logging.getLogger(__name__)


def wants_json(request: Request) -> bool:
    """JSON for the API (``/api/...``), the tus server and clients that ask only for JSON;
    pages otherwise."""
    path = request.url.path
    if path.startswith(("/api/", "/uploads/")) or path in ("/openapi.json", "/uploads"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _error_response(request: Request, status: int, code: str, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": message, "code": code}, status_code=status)
    return render(
        request,
        "error.html",
        {"status": status, "code": code, "message": message},
        status_code=status,
    )


async def _web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    if isinstance(exc, NotAuthenticated) and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return _error_response(request, exc.status_code, exc.code, exc.message)


_HTTP_MESSAGES = {
    404: "There is nothing here. The address may be wrong, or the item was removed.",
    405: "This address does not accept that kind of request.",
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code in _HTTP_MESSAGES and message in ("Not Found", "Method Not Allowed"):
        message = _HTTP_MESSAGES[exc.status_code]
    response = _error_response(request, exc.status_code, f"http_{exc.status_code}", message)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


def _describe_validation(errors: Any) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg"))
    return "; ".join(parts) or "The request was not valid."


async def _server_error(request: Request, exc: Exception) -> Response:
    """A clear 500 page or JSON body, never a traceback (it is logged, without secrets)."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_response(
        request, 500, "server_error",
        "Something went wrong on our side. Nothing you sent was lost; please try again. "
        "If it happens again, tell your Chorus administrator.")


def _cross_site(request: Request, message: str) -> Response:
    return _error_response(request, 403, "cross_site", message)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if wants_json(request):
        return JSONResponse(
            {"detail": _describe_validation(exc.errors()), "code": "invalid",
             "errors": jsonable_errors(exc.errors())},
            status_code=422,
        )
    return _error_response(request, 422, "invalid", _describe_validation(exc.errors()))


def jsonable_errors(errors: Any) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in errors
    ]


def _include_routers(app: FastAPI) -> None:
    from service.audit.endpoints import router as audit_router
    from service.auth.endpoints import router as auth_router
    from service.auth.password_endpoints import router as password_router
    from service.board.endpoints import router as board_router
    from service.campaigns.endpoints import router as campaigns_router
    from service.clips.endpoints import router as clips_router
    from service.erasure.endpoints import router as erasure_router
    from service.invitations.endpoints import router as invitations_router
    from service.leaders.endpoints import router as leaders_router
    from service.observability.endpoints import router as observability_router
    from service.organisations.endpoints import router as staff_router
    from service.renders.endpoints import router as renders_router
    from service.uploads.endpoints import router as uploads_router
    from service.web.pages import router as pages_router

    for router in (
        pages_router,
        auth_router,
        password_router,
        campaigns_router,
        leaders_router,
        board_router,
        staff_router,
        invitations_router,
        uploads_router,
        clips_router,
        renders_router,
        audit_router,
        erasure_router,
        observability_router,
    ):
        responses = TUS_RESPONSES if router is uploads_router else ERROR_RESPONSES
        app.include_router(router, responses=responses)


class ChorusApp(FastAPI):
    """FastAPI whose security headers wrap even Starlette's own error handling.

    ``add_middleware`` places middleware inside ``ServerErrorMiddleware``, whose 500 answer
    would then leave without CSP or nosniff; here the headers are the outermost layer.
    """

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        settings: Settings = self.state.settings
        wrapped: ASGIApp = SecurityHeadersMiddleware(inner, https=settings.secure_cookies)
        if settings.trusted_proxy_list:
            # Outermost, so every later layer sees the real client and scheme. Only a peer in
            # the list is believed; its X-Forwarded-For is read from the right, skipping the
            # trusted hops, so a client cannot choose the address the throttles see.
            proxied: Any = ProxyHeadersMiddleware(cast(Any, wrapped),
                                                  trusted_hosts=settings.trusted_proxy_list)
            wrapped = proxied
        return wrapped


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    settings.check_production()
    app = ChorusApp(
        title="Chorus",
        summary="Collect, review and compile multilingual community videos.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.sessionmaker = get_sessionmaker(settings)
    app.add_middleware(SameOriginMiddleware, public_url=settings.public_url,
                       refuse=_cross_site)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_exception_handler(WebError, _web_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
    _include_routers(app)
    return app
