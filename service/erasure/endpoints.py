"""Admin routes that erase a clip or a person; each answers with its erasure report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from service.clips.repository import get_clip
from service.erasure import service
from service.leaders.repository import get_leader
from service.models import ErasureReport
from service.web.deps import AdminUser, AppSettings, DbSession, Form, Store
from service.web.errors import NotFound, WebError

router = APIRouter()
api = APIRouter(prefix="/api", tags=["erasure"])


def report_out(report: ErasureReport) -> dict[str, Any]:
    return {
        "id": report.id, "scope": report.scope, "created_at": report.created_at.isoformat(),
        "clip_ids": list(report.clip_ids), "objects_removed": list(report.objects_removed),
        "local_files_removed": report.local_files_removed,
        "compiles_withdrawn": list(report.compiles_withdrawn),
        "recompiles": list(report.details.get("recompiles", [])),
    }


def _confirmed(form: Any) -> None:
    if form.get("confirm") != "yes":
        raise WebError("Tick the box to confirm the erasure: it cannot be undone.",
                       code="not_confirmed", status_code=422)


@router.post("/clips/{clip_id}/erase", include_in_schema=False)
def erase_clip_page(clip_id: str, db: DbSession, user: AdminUser, form: Form, store: Store,
                    settings: AppSettings) -> Response:
    _confirmed(form)
    clip = get_clip(db, user.organisation_id, clip_id)
    if clip is None:
        raise NotFound("There is no such clip in your organisation.")
    report = service.erase_clip(db, settings, store, clip, user)
    return RedirectResponse(f"/erasures/{report.id}", status_code=303)


@router.post("/leaders/{leader_id}/erase", include_in_schema=False)
def erase_leader_page(leader_id: str, db: DbSession, user: AdminUser, form: Form,
                      store: Store, settings: AppSettings) -> Response:
    _confirmed(form)
    leader = get_leader(db, user.organisation_id, leader_id)
    if leader is None:
        raise NotFound("There is no such leader in your organisation.")
    report = service.erase_leader(db, settings, store, leader, user)
    return RedirectResponse(f"/erasures/{report.id}", status_code=303)


@api.post("/clips/{clip_id}/erase", summary="Erase a clip and everything made from it (admin)")
def api_erase_clip(clip_id: str, db: DbSession, user: AdminUser, store: Store,
                   settings: AppSettings) -> dict[str, Any]:
    clip = get_clip(db, user.organisation_id, clip_id)
    if clip is None:
        raise NotFound("There is no such clip in your organisation.")
    return report_out(service.erase_clip(db, settings, store, clip, user))


@api.post("/leaders/{leader_id}/erase",
          summary="Erase a person, their recordings and everything made from them (admin)")
def api_erase_leader(leader_id: str, db: DbSession, user: AdminUser, store: Store,
                     settings: AppSettings) -> dict[str, Any]:
    leader = get_leader(db, user.organisation_id, leader_id)
    if leader is None:
        raise NotFound("There is no such leader in your organisation.")
    return report_out(service.erase_leader(db, settings, store, leader, user))


router.include_router(api)
