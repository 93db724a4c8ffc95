"""HTTP routes for compiles: start one, follow its progress live, download every output.

The page polls ``/api/compiles/{id}`` once a second with a small static script (no inline
JavaScript: CSP). Downloads stream from storage with the output's content type; only names
the compile recorded as stored are served.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from service.campaigns.endpoints import load_campaign
from service.clips.repository import compilable_clips
from service.clips.web import render, static_file, stream_object
from service.models import Campaign, Compile, User
from service.renders import service
from service.renders.schemas import CompileClipOut, CompileIn, CompileOut, OutputOut
from service.web.deps import ROLE_RANK, DbSession, EditorUser, Form, Store, ViewerUser
from service.web.errors import NotFound, WebError

router = APIRouter()
api = APIRouter(prefix="/api", tags=["compiles"])


def _compile(db: Session, user: User, compile_id: str) -> Compile:
    row = service.get_compile(db, user.organisation_id, compile_id)
    if row is None:
        raise NotFound("There is no such compile in your organisation.")
    return row


def compile_out(db: Session, row: Compile) -> CompileOut:
    return CompileOut(
        id=row.id, campaign_id=row.campaign_id, formats=list(row.formats), status=row.status,
        progress=round(row.progress, 4), error_code=row.error_code, error=row.error,
        attempts=row.attempts, created_at=row.created_at, started_at=row.started_at,
        finished_at=row.finished_at,
        clips=[CompileClipOut(clip_id=clip.id, language=clip.language,
                              speaker=clip.speaker_name, status=cc.status,
                              progress=round(cc.progress, 4), error_code=cc.error_code)
               for cc, clip in service.compile_clips(db, row.id)],
        outputs=[OutputOut(name=o["name"], size=o["size"], content_type=o["content_type"],
                           url=f"/compiles/{row.id}/files/{o['name']}")
                 for o in (row.outputs or []) if row.status == "done"],
    )


def _start(db: Session, user: User, campaign: Campaign, formats: list[str]) -> Compile:
    try:
        return service.start_compile(db, campaign, user, formats)
    except service.RenderError as exc:
        raise WebError(exc.message, code=exc.code, status_code=exc.status_code) from None


@router.get("/renders/static/{name}", include_in_schema=False)
def renders_static(name: str) -> FileResponse:
    return static_file("renders", name)


@router.get("/campaigns/{campaign_id}/compiles", include_in_schema=False)
def compiles_page(request: Request, campaign_id: str, db: DbSession,
                  user: ViewerUser) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    return render(request, "renders/list.html", {
        "campaign": campaign, "compiles": service.campaign_compiles(db, campaign.id),
        "ready": len(compilable_clips(db, campaign.id)), "formats": service.FORMATS,
        "can_edit": ROLE_RANK.get(user.role, -1) >= ROLE_RANK["editor"],
    })


@router.post("/campaigns/{campaign_id}/compiles", include_in_schema=False)
def start_page(campaign_id: str, db: DbSession, user: EditorUser, form: Form) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    row = _start(db, user, campaign, [str(f) for f in form.getlist("formats")])
    return RedirectResponse(f"/compiles/{row.id}", status_code=303)


@router.get("/compiles/{compile_id}", include_in_schema=False)
def compile_page(request: Request, compile_id: str, db: DbSession, user: ViewerUser) -> Response:
    row = _compile(db, user, compile_id)
    campaign = load_campaign(db, user, row.campaign_id)
    return render(request, "renders/detail.html",
                  {"compile": compile_out(db, row), "campaign": campaign})


@router.get("/compiles/{compile_id}/files/{name:path}", include_in_schema=False)
def download(request: Request, compile_id: str, name: str, db: DbSession, user: ViewerUser,
             store: Store) -> Response:
    row = _compile(db, user, compile_id)
    match = next((o for o in (row.outputs or []) if o["name"] == name), None)
    if row.status != "done" or match is None:
        raise NotFound("This compile has no such output.")
    return stream_object(store, match["key"], match["content_type"], request,
                         download_name=name.replace("/", "-"))


@api.post("/campaigns/{campaign_id}/compiles", response_model=CompileOut, status_code=202)
def api_start(campaign_id: str, body: CompileIn, db: DbSession, user: EditorUser) -> CompileOut:
    campaign = load_campaign(db, user, campaign_id)
    return compile_out(db, _start(db, user, campaign, body.formats))


@api.get("/campaigns/{campaign_id}/compiles", response_model=list[CompileOut])
def api_list(campaign_id: str, db: DbSession, user: ViewerUser) -> list[CompileOut]:
    campaign = load_campaign(db, user, campaign_id)
    return [compile_out(db, r) for r in service.campaign_compiles(db, campaign.id)]


@api.get("/compiles/{compile_id}", response_model=CompileOut)
def api_get(compile_id: str, db: DbSession, user: ViewerUser) -> CompileOut:
    """Progress overall and per clip; outputs once done (poll it)."""
    return compile_out(db, _compile(db, user, compile_id))


router.include_router(api)
