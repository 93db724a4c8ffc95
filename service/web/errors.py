"""Errors the web layer turns into clear pages (HTML) or ``{"detail": ...}`` (JSON API)."""

from __future__ import annotations


class WebError(Exception):
    """An error with an HTTP status, a stable code and a message for a person."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code


class NotAuthenticated(WebError):
    status_code = 401
    code = "not_signed_in"


class CsrfError(WebError):
    status_code = 403
    code = "csrf_missing"


class Forbidden(WebError):
    status_code = 403
    code = "forbidden"


class NotFound(WebError):
    status_code = 404
    code = "not_found"
