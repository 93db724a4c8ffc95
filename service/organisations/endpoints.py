"""Staff accounts of the admin's own organisation: list, add, deactivate, reactivate.

Only admins reach these routes, and only for users of their own organisation. Deactivating
someone ends all their sessions at once; an admin cannot deactivate themselves (so an
organisation is never left without a way in).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.responses import Response

from service.auth.service import end_all_sessions
from service.models import User
from service.organisations.service import AccountError, add_user
from service.text import Line
from service.web.deps import AdminUser, DbSession, Form
from service.web.errors import NotFound, WebError
from service.web.templating import render

router = APIRouter()
api = APIRouter(prefix="/api/users", tags=["staff"])


class UserIn(BaseModel):
    email: str = Field(max_length=320)
    name: Line = Field(min_length=1, max_length=200)
    role: Literal["admin", "editor", "viewer"] = "editor"
    password: str = Field(min_length=1, max_length=1000)


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    role: str
    active: bool


def _users(db: DbSession, organisation_id: str) -> Sequence[User]:
    return db.scalars(select(User).where(User.organisation_id == organisation_id)
                      .order_by(User.name)).all()


def _load(db: DbSession, admin: User, user_id: str) -> User:
    user = db.get(User, user_id)
    if user is None or user.organisation_id != admin.organisation_id:
        raise NotFound("There is no such staff member in your organisation.")
    return user


def _set_active(db: DbSession, admin: User, user: User, active: bool) -> None:
    if user.id == admin.id and not active:
        raise WebError("You cannot deactivate your own account.", code="self_deactivate",
                       status_code=422)
    user.active = active
    if not active:
        end_all_sessions(db, user.id)


def _out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, name=user.name, role=user.role,
                   active=user.active)


def _page(request: Request, db: DbSession, admin: User, values: dict[str, str] | None = None,
          error: str | None = None, status: int = 200) -> Response:
    return render(request, "staff/list.html", {
        "users": _users(db, admin.organisation_id), "me": admin, "values": values or {},
        "error": error}, status_code=status)


@router.get("/staff", include_in_schema=False)
def staff_page(request: Request, db: DbSession, admin: AdminUser) -> Response:
    return _page(request, db, admin)


@router.post("/staff", include_in_schema=False)
def add_staff_page(request: Request, db: DbSession, admin: AdminUser, form: Form) -> Response:
    values = {k: str(form.get(k, "")) for k in ("email", "name", "role")}
    try:
        add_user(db, admin.organisation, email=values["email"], name=values["name"],
                 role=values["role"], password=str(form.get("password", "")))
    except AccountError as exc:
        return _page(request, db, admin, values, str(exc), status=422)
    return RedirectResponse("/staff", status_code=303)


@router.post("/staff/{user_id}/{action}", include_in_schema=False)
def staff_action_page(user_id: str, action: str, db: DbSession, admin: AdminUser) -> Response:
    if action not in ("deactivate", "activate"):
        raise NotFound("Unknown action.")
    _set_active(db, admin, _load(db, admin, user_id), action == "activate")
    return RedirectResponse("/staff", status_code=303)


@api.get("", response_model=list[UserOut], summary="Staff of my organisation (admin)")
def api_users(db: DbSession, admin: AdminUser) -> list[UserOut]:
    return [_out(u) for u in _users(db, admin.organisation_id)]


@api.post("", response_model=UserOut, status_code=201, summary="Add a staff member (admin)")
def api_add_user(data: UserIn, db: DbSession, admin: AdminUser) -> UserOut:
    try:
        user = add_user(db, admin.organisation, email=data.email, name=data.name,
                        role=data.role, password=data.password)
    except AccountError as exc:
        raise WebError(str(exc), code="invalid", status_code=422) from exc
    return _out(user)


@api.post("/{user_id}/deactivate", response_model=UserOut,
          summary="Deactivate a staff member and end their sessions (admin)")
def api_deactivate(user_id: str, db: DbSession, admin: AdminUser) -> UserOut:
    user = _load(db, admin, user_id)
    _set_active(db, admin, user, False)
    return _out(user)


@api.post("/{user_id}/activate", response_model=UserOut, summary="Reactivate (admin)")
def api_activate(user_id: str, db: DbSession, admin: AdminUser) -> UserOut:
    user = _load(db, admin, user_id)
    _set_active(db, admin, user, True)
    return _out(user)


router.include_router(api)
