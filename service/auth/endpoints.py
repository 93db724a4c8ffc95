"""Sign-in and sign-out pages, and ``GET /api/me`` (who am I, and my CSRF token).

The sign-in form has no session yet, so its CSRF token is a double-submit cookie: a random
value in a short-lived cookie that must equal the hidden field. Sign-in attempts are limited
per client address to slow password guessing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.responses import Response

from service.auth.service import (
    AccountLocked,
    authenticate,
    end_session,
    load_session,
    start_session,
)
from service.security import CSRF_FIELD, RateLimiter, new_token, tokens_match
from service.settings import Settings
from service.web.deps import AppSettings, DbSession, ViewerUser, client_key
from service.web.errors import CsrfError, WebError
from service.web.templating import render

router = APIRouter(tags=["auth"])
LOGIN_ATTEMPTS_PER_MINUTE = 10


def _login_cookie(settings: Settings) -> str:
    return "__Host-chorus_login_csrf" if settings.secure_cookies else "chorus_login_csrf"


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = request.app.state.login_limiter = RateLimiter(LOGIN_ATTEMPTS_PER_MINUTE)
    return limiter


def safe_next(target: str | None) -> str:
    """Only a local path may follow sign-in (no open redirect to another site)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/campaigns"


def anonymous_form(request: Request, settings: Settings, template: str, context: dict[str, Any],
                   status: int = 200) -> Response:
    """A page with a form for someone not signed in, with a double-submit CSRF cookie."""
    token = new_token()
    request.state.csrf_token = token
    response = render(request, template, context, status_code=status)
    response.set_cookie(
        _login_cookie(settings), token, max_age=3600, path="/", httponly=True,
        secure=settings.secure_cookies, samesite="strict",
    )
    return response


def check_anonymous_form(request: Request, settings: Settings, csrf_token: str) -> None:
    """Refuse a form for someone not signed in whose CSRF cookie and field differ."""
    if not tokens_match(request.cookies.get(_login_cookie(settings)), csrf_token):
        raise CsrfError(
            "The form was refused because its security token (CSRF) was missing or "
            "expired. Reload the page and try again."
        )


def _login_page(
    request: Request, settings: Settings, *, next_url: str, email: str = "",
    error: str | None = None, status: int = 200,
) -> Response:
    return anonymous_form(request, settings, "auth/login.html",
                          {"next_url": next_url, "email": email, "error": error,
                           "reset_done": request.query_params.get("reset") == "1"}, status)


@router.get("/login", include_in_schema=False)
def login_form(request: Request, db: DbSession, settings: AppSettings,
               next: str | None = None) -> Response:
    if load_session(db, request.cookies.get(settings.session_cookie_name)) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, settings, next_url=safe_next(next))


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    if not tokens_match(request.cookies.get(_login_cookie(settings)), csrf_token):
        raise CsrfError(
            "The sign-in form was refused because its security token (CSRF) was missing or "
            "expired. Reload the page and try again."
        )
    client = client_key(request)
    if not _limiter(request).hit(client):
        raise WebError("Too many sign-in attempts. Wait a minute and try again.",
                       code="rate_limited", status_code=429)
    try:
        user = authenticate(db, email, password, settings)
    except AccountLocked as locked:
        return _login_page(request, settings, next_url=safe_next(next), email=email,
                           error=locked.message(), status=429)
    if user is None:
        return _login_page(request, settings, next_url=safe_next(next), email=email,
                           error="The email or password is not right.", status=401)
    token, _row = start_session(db, user, settings)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        settings.session_cookie_name, token, max_age=settings.session_hours * 3600, path="/",
        httponly=True, secure=settings.secure_cookies, samesite="lax",
    )
    response.delete_cookie(_login_cookie(settings), path="/", secure=settings.secure_cookies)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, user: ViewerUser, db: DbSession, settings: AppSettings) -> Response:
    """End the session (the row is deleted: the cookie is dead everywhere at once)."""
    end_session(db, request.cookies.get(settings.session_cookie_name))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(settings.session_cookie_name, path="/",
                           secure=settings.secure_cookies, httponly=True, samesite="lax")
    return response


class MeOut(BaseModel):
    id: str
    email: str
    name: str
    role: str
    organisation_id: str
    organisation_name: str
    csrf_token: str


@router.get("/api/me", response_model=MeOut, summary="The signed-in staff member")
def me(request: Request, user: ViewerUser) -> MeOut:
    """Who is signed in, and the CSRF token to send as ``X-CSRF-Token`` on changes."""
    return MeOut(
        id=user.id, email=user.email, name=user.name, role=user.role,
        organisation_id=user.organisation_id, organisation_name=user.organisation.name,
        csrf_token=request.state.csrf_token,
    )


@router.post("/api/logout", status_code=204, summary="Sign out (ends the session)")
def api_logout(request: Request, user: ViewerUser, db: DbSession,
               settings: AppSettings) -> Response:
    end_session(db, request.cookies.get(settings.session_cookie_name))
    response = Response(status_code=204)
    response.delete_cookie(settings.session_cookie_name, path="/",
                           secure=settings.secure_cookies, httponly=True, samesite="lax")
    return response
