"""The audit log page for admins, and its CSV export."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from service.audit import service
from service.models import AUDIT_ACTIONS, ErasureReport
from service.web.deps import AdminUser, DbSession
from service.web.errors import NotFound
from service.web.templating import render

router = APIRouter()


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request, db: DbSession, user: AdminUser,
               action: str | None = None) -> Response:
    """Who did what, when (newest 500; the export has everything)."""
    chosen = action if action in AUDIT_ACTIONS else None
    return render(request, "audit/list.html", {
        "user": user, "events": service.events(db, user.organisation_id, action=chosen),
        "actions": AUDIT_ACTIONS, "chosen": chosen or "",
    })


@router.get("/audit.csv", include_in_schema=False)
def audit_csv(db: DbSession, user: AdminUser) -> Response:
    body = service.to_csv(service.events(db, user.organisation_id, limit=None))
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="chorus-audit.csv"',
        "Cache-Control": "no-store",
    })


@router.get("/erasures/{report_id}", include_in_schema=False)
def erasure_report_page(request: Request, report_id: str, db: DbSession,
                        user: AdminUser) -> Response:
    """One erasure report: every object removed and every compile withdrawn."""
    report = db.get(ErasureReport, report_id)
    if report is None or report.organisation_id != user.organisation_id:
        raise NotFound("There is no such erasure report in your organisation.")
    return render(request, "audit/erasure.html", {"user": user, "report": report})
