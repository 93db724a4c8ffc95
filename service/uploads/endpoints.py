"""HTTP routes of the tus 1.0.0 upload server, mounted at `/uploads/`.

Who may upload: a leader, by sending their invite token in the `Chorus-Invite` header (the
page does; the upload then requires a consent given through that invite), or a signed-in staff
member (editor or admin) with the session cookie and the `X-CSRF-Token` header. Both must send
`Tus-Resumable: 1.0.0`, which a cross-site form cannot, so cookies alone never suffice.

The database work runs in the thread pool in short transactions that commit before the
response is sent, so a client's next HEAD always sees the offset we answered with.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from service.db import transaction
from service.invitations import service as invitations
from service.models import Campaign, TusUpload, utcnow
from service.settings import Settings
from service.storage import get_store
from service.text import TextRejected, check_text
from service.uploads import protocol
from service.uploads import service as uploads
from service.uploads.protocol import ProtocolError
from service.uploads.service import Uploader
from service.web.deps import client_key

log = logging.getLogger(__name__)
router = APIRouter(prefix="/uploads", tags=["uploads"])

INVITE_HEADER = "Chorus-Invite"
_CLEANUP_EVERY_SECONDS = 600.0
_last_cleanup = 0.0
T = TypeVar("T")


def _tus_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"Tus-Resumable": protocol.TUS_VERSION, "Cache-Control": "no-store"}
    headers.update(extra or {})
    return headers


def _error(exc: ProtocolError) -> Response:
    headers = _tus_headers()
    if exc.status == 412:
        headers["Tus-Version"] = protocol.TUS_VERSION
    return JSONResponse({"code": exc.code, "detail": exc.message}, status_code=exc.status,
                        headers=headers)


def _check_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != protocol.TUS_VERSION:
        raise ProtocolError(412, "upload.tus_version",
                            f"this server speaks tus {protocol.TUS_VERSION}")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _unit(request: Request, work: Callable[[Session], T]) -> T:
    with transaction(request.app.state.sessionmaker) as session:
        return work(session)


def resolve_uploader(request: Request, session: Session,
                     metadata: dict[str, str] | None = None) -> Uploader:
    """Who is calling: the invite named in `Chorus-Invite`, else a staff session.

    `metadata` is given at creation: a staff upload names its campaign (`campaign_id`),
    language, speaker and role there.
    """
    token = request.headers.get(INVITE_HEADER)
    if token:
        # Failed look-ups count against the same per-IP limit as the link pages: the upload
        # endpoint must not become a faster way to guess links.
        limiter = invitations.guess_limiter(_settings(request).invite_rate_limit_per_minute)
        ip = client_key(request)
        if limiter.retry_after(ip):
            raise ProtocolError(429, "rate_limited", "too many attempts; wait a minute")
        try:
            invite = invitations.find_invite(session, token)
        except invitations.InviteError as exc:
            if exc.status == 404:
                limiter.hit(ip)
            raise ProtocolError(exc.status, exc.code, "this link cannot be used") from None
        return Uploader(
            kind="invite", campaign_id=invite.campaign_id, invite_id=invite.id,
            leader_id=invite.leader_id, language=invitations.recording_language(invite),
            speaker_name=invite.leader.name, speaker_role=invite.leader.role,
        )
    return _staff_uploader(request, session, metadata)


def _staff_uploader(request: Request, session: Session,
                    metadata: dict[str, str] | None) -> Uploader:
    from service.auth.service import load_session
    from service.security import CSRF_HEADER, tokens_match

    settings = _settings(request)
    row = load_session(session, request.cookies.get(settings.session_cookie_name))
    if row is None:
        raise ProtocolError(401, "upload.not_allowed", "sign in or use your invite link")
    if request.method not in ("HEAD", "OPTIONS", "GET") and not tokens_match(
        row.csrf_token, request.headers.get(CSRF_HEADER)
    ):
        raise ProtocolError(403, "upload.csrf", "the X-CSRF-Token header is missing or wrong")
    user = row.user
    if user.role not in ("editor", "admin"):
        raise ProtocolError(403, "upload.not_allowed", "uploading needs the editor role")
    campaign_id = ""
    language = None
    if metadata is not None:
        campaign_id = metadata.get("campaign_id", "")
        campaign = session.get(Campaign, campaign_id) if campaign_id else None
        if campaign is None or campaign.organisation_id != user.organisation_id:
            raise ProtocolError(404, "upload.no_campaign", "no such campaign")
        language = metadata.get("language") or None
        for field in ("speaker_name", "speaker_role"):
            try:
                check_text(metadata.get(field, ""), required=False)
            except TextRejected as exc:
                raise ProtocolError(422, "upload.bad_text", f"{field}: {exc}") from None
    return Uploader(kind="staff", campaign_id=campaign_id, user_id=user.id, language=language,
                    speaker_name=(metadata or {}).get("speaker_name", "")[:200],
                    speaker_role=(metadata or {}).get("speaker_role", "")[:200])


def _maybe_cleanup(session: Session, settings: Settings) -> None:
    """Expire stale uploads now and then, from the request path (no scheduler needed)."""
    global _last_cleanup
    now = time.monotonic()
    if now - _last_cleanup < _CLEANUP_EVERY_SECONDS:
        return
    _last_cleanup = now
    removed = uploads.expire_uploads(session, settings)
    if removed:
        log.info("expired %d unfinished uploads", removed)


def _location(settings: Settings, upload_id: str) -> str:
    return f"{settings.public_url_base}/uploads/{upload_id}"


@router.options("/", include_in_schema=False)
@router.options("/{upload_id}", include_in_schema=False)
def tus_options(request: Request) -> Response:
    """Server capabilities (tus: no Tus-Resumable needed on OPTIONS)."""
    return Response(status_code=204, headers=_tus_headers({
        "Tus-Version": protocol.TUS_VERSION,
        "Tus-Extension": protocol.TUS_EXTENSIONS,
        "Tus-Max-Size": str(_settings(request).max_upload_bytes),
        "Tus-Checksum-Algorithm": protocol.CHECKSUM_ALGORITHMS,
    }))


@router.post("/", status_code=201)
def tus_create(request: Request) -> Response:
    """Create an upload (tus creation): `Upload-Length`, optional `Upload-Metadata`."""
    settings = _settings(request)
    try:
        _check_version(request)
        if request.headers.get("upload-defer-length"):
            raise ProtocolError(400, "upload.bad_request", "deferred length is not supported")
        length = protocol.parse_length(request.headers.get("upload-length"), "Upload-Length")
        metadata = protocol.parse_metadata(request.headers.get("upload-metadata"))

        def work(session: Session) -> TusUpload:
            uploader = resolve_uploader(request, session, metadata)
            if uploader.kind == "invite":
                _require_consent(session, uploader)
            _maybe_cleanup(session, settings)
            return uploads.create_upload(session, settings, uploader, length, metadata)

        upload = _unit(request, work)
    except ProtocolError as exc:
        return _error(exc)
    return Response(status_code=201, headers=_tus_headers({
        "Location": _location(settings, upload.id),
        "Upload-Expires": protocol.http_date(upload.expires_at),
    }))


def _require_consent(session: Session, uploader: Uploader) -> None:
    from service.invitations.repository import unattached_consent

    if uploader.invite_id is None or unattached_consent(session, uploader.invite_id) is None:
        raise ProtocolError(403, "consent.required", "consent is needed before uploading")


def _complete(request: Request, session: Session, upload: TusUpload, uploader: Uploader) -> None:
    settings = _settings(request)
    uploads.on_complete(session, settings, get_store(settings), upload, uploader)


@router.head("/{upload_id}")
def tus_head(request: Request, upload_id: str) -> Response:
    """Where an upload stands: `Upload-Offset`, `Upload-Length` (never cached)."""
    try:
        _check_version(request)

        def work(session: Session) -> dict[str, str]:
            uploader = resolve_uploader(request, session)
            upload = uploads.get_upload(session, upload_id, uploader)
            if upload.offset == upload.length and upload.completed_at is None:
                # The last PATCH stored every byte but completion failed: finish it now, so a
                # client that resumes (and sees it is done) does not leave a clip-less upload.
                _complete(request, session, upload, uploader)
            headers = {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)}
            if upload.metadata_:
                headers["Upload-Metadata"] = protocol.encode_metadata(upload.metadata_)
            if upload.completed_at is None:
                headers["Upload-Expires"] = protocol.http_date(upload.expires_at)
            return headers

        headers = _unit(request, work)
    except ProtocolError as exc:
        return Response(status_code=exc.status, headers=_tus_headers())
    return Response(status_code=200, headers=_tus_headers(headers))


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        yield chunk


@router.patch("/{upload_id}")
async def tus_patch(request: Request, upload_id: str) -> Response:
    """Append bytes at `Upload-Offset` (streamed to disk); completes the upload at the end."""
    try:
        _check_version(request)
        if request.headers.get("content-type", "").split(";")[0].strip() != \
                protocol.OFFSET_CONTENT_TYPE:
            raise ProtocolError(415, "upload.bad_request",
                                f"Content-Type must be {protocol.OFFSET_CONTENT_TYPE}")
        offset = protocol.parse_length(request.headers.get("upload-offset"), "Upload-Offset")
        checksum = protocol.parse_checksum(request.headers.get("upload-checksum"))

        def load(session: Session) -> tuple[TusUpload, Uploader]:
            uploader = resolve_uploader(request, session)
            upload = uploads.get_upload(session, upload_id, uploader)
            if upload.completed_at is not None:
                raise ProtocolError(409, "upload.offset_mismatch", "this upload is complete")
            return upload, uploader

        upload, uploader = await run_in_threadpool(_unit, request, load)
        result = await uploads.write_chunk(upload, offset, _body(request), checksum,
                                           disconnect_errors=(ClientDisconnect,))

        def finish(session: Session) -> tuple[int, Any, ProtocolError | None]:
            row = session.get(TusUpload, upload_id)
            if row is None:
                raise ProtocolError(404, "upload.not_found", "no such upload")
            if row.offset != offset:
                raise ProtocolError(409, "upload.offset_mismatch", "the upload moved on")
            row.offset = offset + result.written
            # Activity keeps an upload alive: expiry counts from the last chunk.
            row.expires_at = max(row.expires_at, utcnow() + uploads.expiry_delta(
                _settings(request)))
            failure = None
            if row.offset == row.length and not result.disconnected:
                try:
                    _complete(request, session, row, uploader)
                except ProtocolError as exc:
                    failure = exc  # the upload was discarded; commit that, then report
            return row.offset, row.expires_at, failure

        new_offset, expires_at, failure = await run_in_threadpool(_unit, request, finish)
        if failure is not None:
            raise failure
    except ProtocolError as exc:
        return _error(exc)
    headers = {"Upload-Offset": str(new_offset)}
    if new_offset < upload.length:
        headers["Upload-Expires"] = protocol.http_date(expires_at)
    return Response(status_code=204, headers=_tus_headers(headers))


@router.delete("/{upload_id}")
def tus_delete(request: Request, upload_id: str) -> Response:
    """Terminate an unfinished upload (tus termination); its bytes are removed."""
    try:
        _check_version(request)

        def work(session: Session) -> None:
            uploader = resolve_uploader(request, session)
            upload = uploads.get_upload(session, upload_id, uploader)
            if upload.completed_at is not None:
                raise ProtocolError(409, "upload.complete",
                                    "a completed upload is a clip; it is not deleted here")
            uploads.discard_upload(session, upload)

        _unit(request, work)
    except ProtocolError as exc:
        return _error(exc)
    return Response(status_code=204, headers=_tus_headers())
