"""Leader pages and API, and a campaign's invite links (create, show once, QR, revoke).

Leaders and campaigns are looked up within the user's organisation (404 otherwise). A new
link is shown once: only its hash is stored, so the page that shows it is the response to
the POST that made it, sent with ``no-store`` and ``no-referrer``.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.responses import Response

from service.campaigns.endpoints import load_campaign
from service.campaigns.forms import field_errors, parse_deadline
from service.campaigns.service import language_label
from service.leaders.repository import get_invite, get_leader, invites_for_campaign, list_leaders
from service.leaders.schemas import InviteCreatedOut, InviteIn, InviteOut, LeaderIn, LeaderOut
from service.leaders.service import (
    IssuedInvite,
    LeaderError,
    create_leader,
    invite_link,
    invite_state,
    issue_invite,
    qr_svg,
    revoke_invite,
    update_leader,
)
from service.models import Campaign, Clip, Invite, Leader, User
from service.web.deps import ROLE_RANK, AppSettings, DbSession, EditorUser, Form, ViewerUser
from service.web.errors import NotFound, WebError
from service.web.templating import render

router = APIRouter()
api = APIRouter(prefix="/api", tags=["leaders and invites"])
SECRET_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def load_leader(db: DbSession, user: User, leader_id: str) -> Leader:
    leader = get_leader(db, user.organisation_id, leader_id)
    if leader is None:
        raise NotFound("There is no such leader in your organisation.")
    return leader


def load_invite(db: DbSession, campaign: Campaign, invite_id: str) -> Invite:
    invite = get_invite(db, campaign, invite_id)
    if invite is None:
        raise NotFound("There is no such invite link in this campaign.")
    return invite


def leader_out(leader: Leader) -> LeaderOut:
    return LeaderOut(id=leader.id, name=leader.name, role=leader.role,
                     community=leader.community, language=leader.language,
                     language_label=language_label(leader.language), contact=leader.contact)


def invite_out(invite: Invite) -> InviteOut:
    return InviteOut(id=invite.id, campaign_id=invite.campaign_id, leader_id=invite.leader_id,
                     leader_name=invite.leader.name, language=invite.language,
                     expires_at=invite.expires_at, revoked_at=invite.revoked_at,
                     opened_at=invite.opened_at, state=invite_state(invite))


def _qr_data_url(link: str) -> str:
    """The link's QR code as a ``data:`` URL (the page's CSP allows ``img-src data:``).

    Inline, so the token never travels in a second request's query string, where access
    logs, proxies and browser history would keep it.
    """
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(link)).decode("ascii")


def _leader_error(exc: LeaderError) -> WebError:
    status = 404 if exc.code == "not_found" else 422
    return WebError(exc.message, code=exc.code, status_code=status)


# ---------------------------------------------------------------- leader pages


@router.get("/leaders", include_in_schema=False)
def leaders_page(request: Request, db: DbSession, user: ViewerUser) -> Response:
    return render(request, "leaders/list.html", {
        "leaders": list_leaders(db, user.organisation_id), "label": language_label,
        "can_edit": ROLE_RANK[user.role] >= ROLE_RANK["editor"]})


def _leader_form(request: Request, leader: Leader | None, values: dict[str, Any],
                 errors: dict[str, str], status: int = 200) -> Response:
    user = getattr(request.state, "user", None)
    return render(request, "leaders/form.html",
                  {"leader": leader, "values": values, "errors": errors,
                   "is_admin": getattr(user, "role", "") == "admin"}, status_code=status)


def _leader_values(form: Any) -> dict[str, Any]:
    return {k: form.get(k, "") for k in ("name", "role", "community", "language", "contact")}


@router.get("/leaders/new", include_in_schema=False)
def new_leader_page(request: Request, user: EditorUser) -> Response:
    return _leader_form(request, None, {}, {})


@router.post("/leaders/new", include_in_schema=False)
def create_leader_page(request: Request, db: DbSession, user: EditorUser,
                       form: Form) -> Response:
    values = _leader_values(form)
    try:
        data = LeaderIn.model_validate(values)
    except ValidationError as exc:
        return _leader_form(request, None, values, field_errors(exc), status=422)
    create_leader(db, user.organisation_id, data)
    return RedirectResponse("/leaders", status_code=303)


@router.get("/leaders/{leader_id}/edit", include_in_schema=False)
def edit_leader_page(request: Request, leader_id: str, db: DbSession,
                     user: EditorUser) -> Response:
    leader = load_leader(db, user, leader_id)
    values = {"name": leader.name, "role": leader.role, "community": leader.community,
              "language": leader.language, "contact": leader.contact or ""}
    return _leader_form(request, leader, values, {})


@router.post("/leaders/{leader_id}/edit", include_in_schema=False)
def update_leader_page(request: Request, leader_id: str, db: DbSession, user: EditorUser,
                       form: Form) -> Response:
    leader = load_leader(db, user, leader_id)
    values = _leader_values(form)
    try:
        data = LeaderIn.model_validate(values)
    except ValidationError as exc:
        return _leader_form(request, leader, values, field_errors(exc), status=422)
    update_leader(db, leader, data)
    return RedirectResponse("/leaders", status_code=303)


def _delete_leader(db: DbSession, user: User, leader_id: str) -> None:
    """Remove a leader who has no recording; one who has is erased by an admin instead."""
    leader = load_leader(db, user, leader_id)
    if db.scalar(select(Clip.id).where(Clip.leader_id == leader.id).limit(1)) is not None:
        raise WebError("This leader has recordings. An admin can erase the person (and every "
                       "recording and video made from them) from the leader's page.",
                       code="has_recordings", status_code=409)
    db.delete(leader)


@router.post("/leaders/{leader_id}/delete", include_in_schema=False)
def delete_leader_page(leader_id: str, db: DbSession, user: EditorUser) -> Response:
    _delete_leader(db, user, leader_id)
    return RedirectResponse("/leaders", status_code=303)


# ---------------------------------------------------------------- invite pages


def _invites_page(request: Request, db: DbSession, user: User, campaign: Campaign,
                  errors: dict[str, str] | None = None, notice: str | None = None,
                  status: int = 200) -> Response:
    invites = sorted(invites_for_campaign(db, campaign.id), key=lambda i: i.leader.name.lower())
    targets = {row.language for row in campaign.languages}
    invited = {i.leader_id for i in invites}
    candidates = [leader for leader in list_leaders(db, user.organisation_id)
                  if leader.language in targets and leader.id not in invited]
    return render(request, "leaders/invites.html", {
        "campaign": campaign, "invites": invites, "state": invite_state,
        "candidates": candidates, "label": language_label, "errors": errors or {},
        "can_edit": ROLE_RANK[user.role] >= ROLE_RANK["editor"],
        "messages": [{"kind": "ok", "text": notice}] if notice else [],
    }, status_code=status)


def _created_page(request: Request, settings: AppSettings, campaign: Campaign,
                  issued: IssuedInvite) -> Response:
    link = invite_link(settings.public_url, issued.token)
    return render(request, "leaders/invite_created.html", {
        "campaign": campaign, "invite": issued.invite, "link": link,
        "qr_url": _qr_data_url(link),
        "label": language_label,
    }, status_code=201, headers=SECRET_HEADERS)


@router.get("/campaigns/{campaign_id}/invites", include_in_schema=False)
def invites_page(request: Request, campaign_id: str, db: DbSession,
                 user: ViewerUser) -> Response:
    return _invites_page(request, db, user, load_campaign(db, user, campaign_id))


def _expiry_from_form(value: Any) -> datetime | None:
    return parse_deadline(value) if isinstance(value, str) else None


@router.post("/campaigns/{campaign_id}/invites", include_in_schema=False)
def create_invite_page(request: Request, campaign_id: str, db: DbSession, user: EditorUser,
                       form: Form, settings: AppSettings) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    leader_id = form.get("leader_id")
    leader = get_leader(db, user.organisation_id, leader_id) if isinstance(leader_id, str) else None
    if leader is None:
        return _invites_page(request, db, user, campaign,
                             errors={"leader_id": "choose a leader to invite"}, status=422)
    try:
        expires = _expiry_from_form(form.get("expires_at"))
        issued = issue_invite(db, campaign, leader, expires_at=expires, actor=user,
                              withdrawal_days=settings.withdrawal_link_days)
    except ValueError as exc:
        return _invites_page(request, db, user, campaign, errors={"expires_at": str(exc)},
                             status=422)
    except LeaderError as exc:
        return _invites_page(request, db, user, campaign,
                             errors={exc.field or "leader_id": exc.message}, status=422)
    return _created_page(request, settings, campaign, issued)


@router.post("/campaigns/{campaign_id}/invites/{invite_id}/reissue", include_in_schema=False)
def reissue_invite_page(request: Request, campaign_id: str, invite_id: str, db: DbSession,
                        user: EditorUser, settings: AppSettings) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    invite = load_invite(db, campaign, invite_id)
    try:
        issued = issue_invite(db, campaign, invite.leader, actor=user,
                              withdrawal_days=settings.withdrawal_link_days)
    except LeaderError as exc:
        return _invites_page(request, db, user, campaign, errors={"leader_id": exc.message},
                             status=422)
    return _created_page(request, settings, campaign, issued)


@router.post("/campaigns/{campaign_id}/invites/{invite_id}/revoke", include_in_schema=False)
def revoke_invite_page(request: Request, campaign_id: str, invite_id: str, db: DbSession,
                       user: EditorUser) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    invite = load_invite(db, campaign, invite_id)
    revoke_invite(db, invite, actor=user)
    return _invites_page(request, db, user, campaign,
                         notice=f"The link for {invite.leader.name} no longer works.")


# ---------------------------------------------------------------- JSON API


@api.get("/leaders", response_model=list[LeaderOut], summary="List leaders")
def api_leaders(db: DbSession, user: ViewerUser) -> list[LeaderOut]:
    return [leader_out(leader) for leader in list_leaders(db, user.organisation_id)]


@api.post("/leaders", response_model=LeaderOut, status_code=201, summary="Add a leader")
def api_create_leader(data: LeaderIn, db: DbSession, user: EditorUser) -> LeaderOut:
    return leader_out(create_leader(db, user.organisation_id, data))


@api.get("/leaders/{leader_id}", response_model=LeaderOut, summary="One leader")
def api_leader(leader_id: str, db: DbSession, user: ViewerUser) -> LeaderOut:
    return leader_out(load_leader(db, user, leader_id))


@api.put("/leaders/{leader_id}", response_model=LeaderOut, summary="Replace a leader's details")
def api_update_leader(leader_id: str, data: LeaderIn, db: DbSession,
                      user: EditorUser) -> LeaderOut:
    return leader_out(update_leader(db, load_leader(db, user, leader_id), data))


@api.delete("/leaders/{leader_id}", status_code=204, summary="Remove a leader")
def api_delete_leader(leader_id: str, db: DbSession, user: EditorUser) -> Response:
    _delete_leader(db, user, leader_id)
    return Response(status_code=204)


@api.get("/campaigns/{campaign_id}/invites", response_model=list[InviteOut],
         summary="A campaign's invite links (without their secret part)")
def api_invites(campaign_id: str, db: DbSession, user: ViewerUser) -> list[InviteOut]:
    campaign = load_campaign(db, user, campaign_id)
    return [invite_out(i) for i in invites_for_campaign(db, campaign.id)]


@api.post("/campaigns/{campaign_id}/invites", response_model=InviteCreatedOut, status_code=201,
          summary="Create or re-issue a leader's link (the link is returned only here)")
def api_create_invite(campaign_id: str, data: InviteIn, db: DbSession, user: EditorUser,
                      settings: AppSettings, response: Response) -> InviteCreatedOut:
    campaign = load_campaign(db, user, campaign_id)
    leader = load_leader(db, user, data.leader_id)
    try:
        issued = issue_invite(db, campaign, leader, expires_at=data.expires_at,
                              language=data.language, actor=user,
                              withdrawal_days=settings.withdrawal_link_days)
    except LeaderError as exc:
        raise _leader_error(exc) from exc
    response.headers.update(SECRET_HEADERS)
    base = invite_out(issued.invite)
    link = invite_link(settings.public_url, issued.token)
    return InviteCreatedOut(**base.model_dump(), link=link, qr_svg_url=_qr_data_url(link))


@api.post("/campaigns/{campaign_id}/invites/{invite_id}/revoke", response_model=InviteOut,
          summary="Revoke a link (it stops working at once)")
def api_revoke_invite(campaign_id: str, invite_id: str, db: DbSession,
                      user: EditorUser) -> InviteOut:
    campaign = load_campaign(db, user, campaign_id)
    invite = load_invite(db, campaign, invite_id)
    revoke_invite(db, invite, actor=user)
    return invite_out(invite)


router.include_router(api)
