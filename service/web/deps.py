"""FastAPI dependencies shared by every router: database session, settings, staff user.

``DbSession`` is the request's one unit of work: it commits once after the handler returns
without an error (before the response is sent) and rolls back otherwise; handlers and
services only flush. ``ViewerUser``/``EditorUser``/``AdminUser`` authenticate the staff
member from the session cookie, enforce the role, and for every unsafe method (POST, PUT,
PATCH, DELETE) check the CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``):
using one of them makes a route both role-checked and CSRF-protected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from service.auth.service import load_session
from service.db import transaction
from service.models import User
from service.security import CSRF_FIELD, CSRF_HEADER, check_csrf
from service.security import client_key as _client_key
from service.settings import Settings
from service.storage import ObjectStore, get_store
from service.web.errors import CsrfError, Forbidden, NotAuthenticated


@dataclass(frozen=True)
class StaffIdentity:
    """Who is signed in, as plain values (safe to use after the session has closed)."""

    id: str
    name: str
    email: str
    role: str
    organisation_id: str


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ROLE_RANK = {"viewer": 0, "editor": 1, "admin": 2}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def get_db(request: Request) -> Iterator[Session]:
    """The request's session; see :func:`service.db.transaction` for commit/rollback."""
    with transaction(request.app.state.sessionmaker) as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_key(request: Request) -> str:
    """The throttles' key for the caller: a keyed hash of its address, never the address.

    The address is the TCP peer's, or the one a trusted proxy (``CHORUS_TRUSTED_PROXIES``)
    forwarded: the app's proxy-header middleware has already put it in ``request.client``.
    """
    settings: Settings = request.app.state.settings
    return _client_key(request.client.host if request.client else None, settings.secret_key)


DbSession = Annotated[Session, Depends(get_db, scope="function")]
AppSettings = Annotated[Settings, Depends(get_app_settings)]


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token the client sent: header first, else the form field (unsafe methods)."""
    if request.method in SAFE_METHODS:
        return None
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(FORM_TYPES):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def current_user(
    request: Request,
    db: DbSession,
    csrf: Annotated[str | None, Depends(submitted_csrf)],
) -> User:
    """The signed-in staff member; 401 if none, 403 if an unsafe request lacks its CSRF token."""
    settings: Settings = request.app.state.settings
    row = load_session(db, request.cookies.get(settings.session_cookie_name))
    if row is None:
        raise NotAuthenticated("Please sign in to continue.")
    # Templates (also error pages rendered after a rollback) get a plain snapshot, not the
    # ORM object, which would be expired once the session is rolled back.
    request.state.user = StaffIdentity(row.user.id, row.user.name, row.user.email,
                                       row.user.role, row.user.organisation_id)
    request.state.csrf_token = row.csrf_token
    if request.method not in SAFE_METHODS and not check_csrf(row.csrf_token, csrf, None):
        raise CsrfError(
            "This request was refused because its security token (CSRF) was missing or wrong. "
            "Reload the page and try again."
        )
    return row.user


def require_role(minimum: str) -> Callable[..., User]:
    """A dependency that lets in staff whose role is at least ``minimum``."""
    if minimum not in ROLE_RANK:
        raise ValueError(f"unknown role {minimum!r}")

    def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if ROLE_RANK.get(user.role, -1) < ROLE_RANK[minimum]:
            raise Forbidden(f"This needs the {minimum} role; you are signed in as {user.role}.")
        return user

    dependency.__name__ = f"require_{minimum}"
    return dependency


ViewerUser = Annotated[User, Depends(require_role("viewer"))]
EditorUser = Annotated[User, Depends(require_role("editor"))]
AdminUser = Annotated[User, Depends(require_role("admin"))]


def get_object_store(request: Request) -> ObjectStore:
    """The app's object store (local disk or S3, from settings), made once per app."""
    store: ObjectStore | None = getattr(request.app.state, "object_store", None)
    if store is None:
        store = request.app.state.object_store = get_store(request.app.state.settings)
    return store


Store = Annotated[ObjectStore, Depends(get_object_store)]


async def get_form(request: Request) -> FormData:
    """The submitted form (parsed once; Starlette caches it for the CSRF check too)."""
    return await request.form()


Form = Annotated[FormData, Depends(get_form)]
