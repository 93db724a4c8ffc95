"""HTTP routes of the leader's link pages: `/i/<token>` and what follows from it.

The token in the path is the leader's only credential (256 bits, only its hash is stored), so
the pages need no sign-in and no CSRF token: a third party cannot forge a request to a path
it does not know. Every response says `Referrer-Policy: no-referrer` (the token never leaks
to another site), `Cache-Control: no-store` and `X-Robots-Tag: noindex`. Failed look-ups are
counted per client (a keyed hash of its address); too many in a minute and it is refused
for a while (429).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from service import i18n
from service.clips.reasons import problem_message, reject_message
from service.invitations import repository
from service.invitations import service as invitations
from service.invitations.fonts import font_files
from service.invitations.service import InviteError
from service.models import Campaign, Invite, Organisation
from service.settings import Settings
from service.web.deps import DbSession, client_key
from service.web.templating import render

router = APIRouter(tags=["leader"])

LANG_COOKIE = "chorus_lang"
PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow, noarchive",
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _requested_lang(request: Request) -> str | None:
    return request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)


def _page_locale(request: Request, invite: Invite | None) -> str:
    return i18n.negotiate(invite.language if invite else None, _requested_lang(request),
                          request.headers.get("accept-language"))


def _prepare(request: Request, locale: str) -> i18n.Translator:
    """Install the page language for templates (S1's templating reads request.state)."""
    t = i18n.translator(locale)
    request.state.gettext = t.gettext
    request.state.ngettext = t.ngettext
    request.state.page_lang = t.locale
    request.state.page_dir = t.direction
    return t


def _page(request: Request, name: str, t: i18n.Translator, context: dict[str, Any],
          status_code: int = 200) -> Response:
    lang = i18n.language(t.locale)
    base = {
        "t": t, "lang": lang, "languages": list(i18n.languages().values()),
        "current_path": request.url.path,
    }
    response = render(request, name, {**base, **context}, status_code=status_code,
                      headers=PRIVATE_HEADERS)
    chosen = request.query_params.get("lang")
    if chosen and i18n.match_locale(chosen):
        response.set_cookie(LANG_COOKIE, i18n.match_locale(chosen) or "", max_age=180 * 86400,
                            path="/i/", httponly=True, samesite="lax",
                            secure=_settings(request).secure_cookies)
    return response


def _error_page(request: Request, code: str, status: int, invite: Invite | None = None,
                headers: dict[str, str] | None = None) -> Response:
    t = _prepare(request, _page_locale(request, invite))
    response = _page(request, "leader/error.html", t,
                     {"code": code, "message": i18n.message_for(code, i18n.ERRORS, t)},
                     status_code=status)
    response.headers.update(headers or {})
    return response


def _open(request: Request, db: Session, token: str,
          find: Callable[[Session, str], Invite] = invitations.find_invite) -> Invite | Response:
    """The invite for `token` (by `find`: a live link by default), or the error page to answer
    with. Rate-limited per client: only unknown tokens count, since only they look like
    guessing."""
    limiter = invitations.guess_limiter(_settings(request).invite_rate_limit_per_minute)
    ip = client_key(request)
    wait = limiter.retry_after(ip)
    if wait:
        return _error_page(request, "rate_limited", 429, headers={"Retry-After": str(wait)})
    try:
        return find(db, token)
    except InviteError as exc:
        if exc.status == 404:
            limiter.hit(ip)
        return _error_page(request, exc.code, exc.status, exc.invite)


def _open_for_withdrawal(request: Request, db: Session, token: str) -> Invite | Response:
    """The invite for `token` in any state (revoked, expired), for withdrawing consent."""
    return _open(request, db, token, invitations.find_for_withdrawal)


def _withdraw_page(request: Request, db: Session, invite: Invite, token: str,
                   closed_code: str | None = None) -> Response:
    """The withdrawal page; for a closed link it is what the link opens (one button left)."""
    t = _prepare(request, _page_locale(request, invite))
    return _page(request, "leader/withdraw.html", t, {
        **_common(db, invite, t, token),
        "consent_active": invitations.has_active_consent(db, invite),
        "closed_message": i18n.message_for(closed_code, i18n.ERRORS, t) if closed_code else "",
        "closed_code": closed_code or "",
        "withdrawn": request.query_params.get("withdrawn") == "1",
    }, status_code=410 if closed_code else 200)


def _url(token: str, page: str = "", lang: str | None = None) -> str:
    path = f"/i/{token}" + (f"/{page}" if page else "")
    return f"{path}?lang={lang}" if lang else path


def _common(db: Session, invite: Invite, t: i18n.Translator, token: str) -> dict[str, Any]:
    campaign = db.get(Campaign, invite.campaign_id)
    assert campaign is not None
    organisation = db.get(Organisation, campaign.organisation_id)
    record_lang = invitations.recording_language(invite)
    lines = repository.message_in(db, campaign.id, record_lang)
    message_lang = record_lang
    if lines is None:  # not translated (yet): show the source message rather than nothing
        lines = repository.message_in(db, campaign.id, campaign.language) or []
        message_lang = campaign.language
    return {
        "token": token, "invite": invite, "leader": invite.leader, "campaign": campaign,
        "organisation": i18n.bdi(organisation.name if organisation else ""),
        "leader_name": i18n.bdi(invite.leader.name), "campaign_title": i18n.bdi(campaign.title),
        "message_lines": lines, "message_lang": message_lang,
        "message_dir": i18n.direction(message_lang),
        "message_translated": message_lang == record_lang,
        "urls": {
            "home": _url(token, lang=t.locale), "consent": _url(token, "consent"),
            "record": _url(token, "record", t.locale), "thanks": _url(token, "thanks", t.locale),
            "withdraw": _url(token, "withdraw", t.locale),
            "withdraw_post": _url(token, "withdraw"),
        },
    }


def _status_text(clip: Any, t: i18n.Translator) -> str:
    if clip.status == "approved":
        return t.gettext("Your video has been approved. Thank you!")
    if clip.status == "rejected":
        # The coded reasons are S3's (service/clips/reasons.py); their msgids are in our catalogs.
        return t.gettext("Your video could not be used.") + " " + t.gettext(
            reject_message(clip.reject_reason_code or "other"))
    if clip.status == "failed":
        reason = t.gettext(problem_message(clip.error_code))
        return t.gettext("There was a problem with your video: %(reason)s. Please record "
                         "again.", reason=reason)
    return t.gettext("Your video has arrived and is waiting to be checked.")


@router.get("/i/{token}", include_in_schema=False)
def invite_page(request: Request, token: str, db: DbSession) -> Response:
    """The leader's page: the message, what happens to the recording, status and consent.

    A revoked or expired link opens the withdrawal page instead of an error: withdrawing
    consent must stay possible whatever happened to the link.
    """
    try:
        invitations.find_invite(db, token)
    except InviteError as exc:
        if exc.status == 410:
            closed = _open_for_withdrawal(request, db, token)
            if isinstance(closed, Response):
                return closed
            return _withdraw_page(request, db, closed, token, exc.code)
    found = _open(request, db, token)
    if isinstance(found, Response):
        return found
    invite = found
    invitations.mark_opened(invite)
    t = _prepare(request, _page_locale(request, invite))
    status = invitations.status_for(db, invite)
    english = i18n.translator("en")
    return _page(request, "leader/invite.html", t, {
        **_common(db, invite, t, token),
        "status": status,
        "status_text": _status_text(status.latest, t) if status.latest else "",
        "channels": [(code, t.gettext(label)) for code, label in i18n.CHANNEL_LABELS.items()],
        "show_english": not i18n.consent_reviewed(t.locale),
        "en": english,
        "error": request.query_params.get("error", ""),
        "error_text": i18n.message_for(request.query_params["error"], i18n.ERRORS, t)
        if request.query_params.get("error") in i18n.ERRORS else "",
        "withdrawn": request.query_params.get("withdrawn") == "1",
    })


@router.post("/i/{token}/consent", include_in_schema=False)
def give_consent(
    request: Request, token: str, db: DbSession,
    agree_recording: Annotated[str | None, Form()] = None,
    agree_shows_role: Annotated[str | None, Form()] = None,
    channels: Annotated[list[str] | None, Form()] = None,
    lang: Annotated[str | None, Form()] = None,
) -> Response:
    """Store the leader's consent (who, when, which wording and language, which channels)."""
    found = _open(request, db, token)
    if isinstance(found, Response):
        return found
    invite = found
    locale = i18n.negotiate(invite.language, lang, request.headers.get("accept-language"))
    answers = invitations.ConsentAnswers(
        agree_recording=agree_recording == "yes", agree_shows_role=agree_shows_role == "yes",
        channels=tuple(channels or ()), wording_language=locale,
        english_shown=not i18n.consent_reviewed(locale),
    )
    try:
        invitations.give_consent(db, invite, answers)
    except InviteError as exc:
        return RedirectResponse(f"{_url(token, lang=locale)}&error={exc.code}#consent",
                                status_code=303, headers=PRIVATE_HEADERS)
    return RedirectResponse(_url(token, "record", locale), status_code=303,
                            headers=PRIVATE_HEADERS)


@router.get("/i/{token}/record", include_in_schema=False)
def record_page(request: Request, token: str, db: DbSession) -> Response:
    """Record with the camera (or choose a file) and send it, resumably."""
    found = _open(request, db, token)
    if isinstance(found, Response):
        return found
    invite = found
    t = _prepare(request, _page_locale(request, invite))
    if repository.unattached_consent(db, invite.id) is None:
        return RedirectResponse(f"{_url(token, lang=t.locale)}&error=consent.required#consent",
                                status_code=303, headers=PRIVATE_HEADERS)
    settings = _settings(request)
    common = _common(db, invite, t, token)
    return _page(request, "leader/record.html", t, {
        **common,
        "recorder": {
            "token": token, "endpoint": "/uploads/", "thanks": common["urls"]["thanks"],
            "language": invitations.recording_language(invite),
            "maxBytes": settings.max_upload_bytes, "maxSeconds": settings.max_clip_seconds,
            "messages": i18n.translated_table(i18n.ERRORS, t),
        },
    })


@router.get("/i/{token}/thanks", include_in_schema=False)
def thanks_page(request: Request, token: str, db: DbSession) -> Response:
    found = _open(request, db, token)
    if isinstance(found, Response):
        return found
    t = _prepare(request, _page_locale(request, found))
    return _page(request, "leader/thanks.html", t, _common(db, found, t, token))


@router.get("/i/{token}/withdraw", include_in_schema=False)
def withdraw_page(request: Request, token: str, db: DbSession) -> Response:
    found = _open_for_withdrawal(request, db, token)
    if isinstance(found, Response):
        return found
    return _withdraw_page(request, db, found, token)


@router.post("/i/{token}/withdraw", include_in_schema=False)
def withdraw(request: Request, token: str, db: DbSession,
             lang: Annotated[str | None, Form()] = None) -> Response:
    """Withdraw consent: every consent given through this link stops holding at once.

    Works on revoked, expired and re-issued links too (a withdraw-only capability).
    """
    found = _open_for_withdrawal(request, db, token)
    if isinstance(found, Response):
        return found
    invitations.withdraw_consent(db, found)
    locale = i18n.negotiate(found.language, lang, request.headers.get("accept-language"))
    return RedirectResponse(f"{_url(token, lang=locale)}&withdrawn=1", status_code=303,
                            headers=PRIVATE_HEADERS)


@router.get("/leader-fonts/{name}", include_in_schema=False)
def leader_font(name: str) -> Response:
    """A Noto font file for the leader pages, from the system fonts (allow-listed names)."""
    path = font_files().get(name)
    if path is None:
        return Response(status_code=404)
    return FileResponse(path, media_type="font/ttf",
                        headers={"Cache-Control": "public, max-age=604800"})
