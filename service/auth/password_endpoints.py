"""Changing a password (signed in) and resetting a forgotten one by e-mail.

Change: the current password is asked again (a borrowed, still signed-in browser must not
be enough), the new one is checked (:mod:`service.auth.passwords`), and every other session
of the account ends. Reset: the form answers the same whether or not the address has an
account (no enumeration); a link valid once, for ``CHORUS_PASSWORD_RESET_MINUTES``, is
e-mailed; using it sets the password, unlocks the account and ends all its sessions.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from service.auth.endpoints import anonymous_form, check_anonymous_form
from service.auth.passwords import PasswordRejected, check_password
from service.auth.service import (
    end_other_sessions,
    find_password_reset,
    finish_password_reset,
    set_password,
    start_password_reset,
)
from service.mail import MailError, send_mail
from service.security import CSRF_FIELD, RateLimiter, client_key, verify_password
from service.settings import Settings
from service.web.deps import AppSettings, DbSession, ViewerUser
from service.web.deps import client_key as request_client_key
from service.web.errors import WebError
from service.web.templating import render

log = logging.getLogger(__name__)
router = APIRouter(tags=["auth"])
RESETS_PER_HOUR = 5

SENT = ("If an account exists for that address, we have sent it a link to choose a new "
        "password. The link works once, for {minutes} minutes. Check your spam folder too.")


def _reset_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "reset_limiter", None)
    if limiter is None:
        limiter = request.app.state.reset_limiter = RateLimiter(
            RESETS_PER_HOUR, window_seconds=3600)
    return limiter


def _change(db: DbSession, request: Request, settings: Settings, user_id: str,
            current: str, new: str, repeat: str | None) -> None:
    from service.models import User

    user = db.get(User, user_id)
    assert user is not None
    if not verify_password(user.password_hash, current):
        raise PasswordRejected("Your current password is not right.")
    if repeat is not None and new != repeat:
        raise PasswordRejected("The two new passwords are not the same.")
    check_password(new, email=user.email, name=user.name)
    set_password(db, user, new)
    end_other_sessions(db, user.id, request.cookies.get(settings.session_cookie_name))


@router.get("/account/password", include_in_schema=False)
def change_form(request: Request, user: ViewerUser) -> Response:
    return render(request, "auth/password_change.html", {"error": None})


@router.post("/account/password", include_in_schema=False)
def change_page(request: Request, db: DbSession, settings: AppSettings, user: ViewerUser,
                current_password: Annotated[str, Form()] = "",
                new_password: Annotated[str, Form()] = "",
                repeat_password: Annotated[str, Form()] = "") -> Response:
    try:
        _change(db, request, settings, user.id, current_password, new_password,
                repeat_password)
    except PasswordRejected as exc:
        return render(request, "auth/password_change.html", {"error": str(exc)},
                      status_code=422)
    return render(request, "auth/password_change.html", {
        "error": None, "done": True,
        "messages": [{"kind": "ok", "text": "Your password is changed. Other devices "
                                            "signed in to your account were signed out."}]})


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=1, max_length=1000)


@router.post("/api/me/password", status_code=204,
             summary="Change my password (ends my other sessions)",
             responses={422: {"description": "wrong current password or weak new one"}})
def api_change(request: Request, data: PasswordChangeIn, db: DbSession,
               settings: AppSettings, user: ViewerUser) -> Response:
    try:
        _change(db, request, settings, user.id, data.current_password, data.new_password, None)
    except PasswordRejected as exc:
        raise WebError(str(exc), code="password_rejected", status_code=422) from exc
    return Response(status_code=204)


@router.get("/password-reset", include_in_schema=False)
def forgot_form(request: Request, settings: AppSettings) -> Response:
    return anonymous_form(request, settings, "auth/password_forgot.html", {"email": ""})


@router.post("/password-reset", include_in_schema=False)
def forgot(request: Request, db: DbSession, settings: AppSettings,
           email: Annotated[str, Form()] = "",
           csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    check_anonymous_form(request, settings, csrf_token)
    limiter = _reset_limiter(request)
    if not (limiter.hit(request_client_key(request))
            and limiter.hit(client_key(email.strip().lower(), settings.secret_key))):
        raise WebError("Too many password-reset requests. Wait an hour and try again.",
                       code="rate_limited", status_code=429)
    started = start_password_reset(db, email, settings)
    if started is not None:
        user, token = started
        link = f"{settings.public_url_base}/password-reset/{token}"
        try:
            send_mail(settings, user.email, "Choose a new Chorus password",
                      f"Hello {user.name},\n\nSomeone (we hope you) asked to reset the password "
                      f"of your Chorus account. To choose a new password, open this link "
                      f"within {settings.password_reset_minutes} minutes:\n\n{link}\n\n"
                      "It works once. If you did not ask for this, ignore this message: your "
                      "password stays as it is.\n")
        except MailError as exc:
            log.error("password reset e-mail not sent: %s", exc)
            raise WebError("The password-reset e-mail could not be sent. Ask your Chorus "
                           "administrator to check the e-mail settings.", code="mail_failed",
                           status_code=503) from exc
    return anonymous_form(request, settings, "auth/password_forgot.html", {
        "email": "", "messages": [{"kind": "ok", "text": SENT.format(
            minutes=settings.password_reset_minutes)}]})


def _reset_or_error(db: DbSession, token: str) -> object:
    reset = find_password_reset(db, token)
    if reset is None:
        raise WebError("This password-reset link does not work: it was already used, has "
                       "expired, or a newer one was sent. Ask for a new link.",
                       code="reset_invalid", status_code=410)
    return reset


@router.get("/password-reset/{token}", include_in_schema=False)
def reset_form(request: Request, token: str, db: DbSession, settings: AppSettings) -> Response:
    _reset_or_error(db, token)
    response = anonymous_form(request, settings, "auth/password_reset.html",
                              {"error": None, "action": request.url.path})
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/password-reset/{token}", include_in_schema=False)
def reset(request: Request, token: str, db: DbSession, settings: AppSettings,
          new_password: Annotated[str, Form()] = "",
          repeat_password: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    check_anonymous_form(request, settings, csrf_token)
    found = find_password_reset(db, token)
    if found is None:
        _reset_or_error(db, token)
    assert found is not None
    try:
        if new_password != repeat_password:
            raise PasswordRejected("The two new passwords are not the same.")
        check_password(new_password, email=found.user.email, name=found.user.name)
    except PasswordRejected as exc:
        return anonymous_form(request, settings, "auth/password_reset.html",
                              {"error": str(exc), "action": request.url.path}, status=422)
    finish_password_reset(db, found, new_password)
    return RedirectResponse("/login?reset=1", status_code=303)
