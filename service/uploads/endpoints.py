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
        if language is not None:
            uploads.check_language(language)
        for field in ("speaker_name", "speaker_role"):
            try:
                check_text(metadata.get(field, ""), required=False)
            except TextRejected as exc:
                raise ProtocolError(422, "upload.bad_text", f"{field}: {exc}") from None
    return Uploader(kind="staff", campaign_id=campaign_id, user_id=user.id, language=language,
                    speaker_name=(metadata or {}).get("speaker_name", "")[:200],
                    speaker_role=(metadata or {}).get("speaker_role", "")[:200])


def _maybe_cleanup(session: Session, settings: Settings) -> None:
    """Now and then, from the request path (no scheduler needed): expire stale uploads, and
    complete those whose bytes all arrived but whose process died before making the clip
    (and whose client never came back to ask)."""
    global _last_cleanup
    now = time.monotonic()
    if now - _last_cleanup < _CLEANUP_EVERY_SECONDS:
        return
    _last_cleanup = now
    removed = uploads.expire_uploads(session, settings)
    if removed:
        log.info("expired %d unfinished uploads", removed)
    started = uploads.complete_pending(session, settings, get_store(settings))
    if started:
        log.info("completing %d uploads left complete but without a clip", started)


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


def _store(request: Request) -> Any:
    return get_store(_settings(request))


@router.head("/{upload_id}")
def tus_head(request: Request, upload_id: str) -> Response:
    """Where an upload stands: `Upload-Offset`, `Upload-Length` (never cached)."""
    settings = _settings(request)
    try:
        _check_version(request)

        def work(session: Session) -> tuple[dict[str, str], bool]:
            uploader = resolve_uploader(request, session)
            upload = uploads.get_upload(session, upload_id, uploader)
            headers = {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)}
            if upload.metadata_:
                headers["Upload-Metadata"] = protocol.encode_metadata(upload.metadata_)
            if upload.completed_at is None:
                headers["Upload-Expires"] = protocol.http_date(upload.expires_at)
            return headers, upload.offset == upload.length and upload.completed_at is None

        headers, unfinished = _unit(request, work)
        if unfinished:
            # Every byte is stored but no clip was made (its process died, or a completion
            # failed): finish it now, unless a request or thread holding the lock already is.
            def resume(session: Session) -> None:
                uploads.complete_pending(session, settings, _store(request), upload_id)

            _unit(request, resume)
    except ProtocolError as exc:
        return Response(status_code=exc.status, headers=_tus_headers())
    return Response(status_code=200, headers=_tus_headers(headers))


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        yield chunk


@router.patch("/{upload_id}")
async def tus_patch(request: Request, upload_id: str) -> Response:
    """Append bytes at `Upload-Offset` (streamed to disk); completes the upload at the end.

    The upload's lock is taken before the offset is checked and held until the new offset
    (and, for the last chunk, the clip) has committed: a retried chunk that overlaps the
    first waits its turn (423) and then finds the offset moved (409), never a file half
    rewritten. A large upload's completion runs after the answer, in a thread that inherits
    the lock (see `service.uploads.service`).
    """
    settings = _settings(request)
    lock: uploads.UploadLock | None = None
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
        try:
            lock = uploads.UploadLock(upload.tmp_path)
        except ProtocolError as exc:
            if exc.status == 410:  # the bytes went because the upload just completed: 409
                await run_in_threadpool(_unit, request, load)
            raise
        # The offset is checked under the lock, against what is committed now.
        upload, uploader = await run_in_threadpool(_unit, request, load)
        if offset != upload.offset:
            raise ProtocolError(409, "upload.offset_mismatch",
                                f"Upload-Offset {offset} does not match the server's "
                                f"{upload.offset}")
        result = await uploads.write_chunk(lock, upload, offset, _body(request), checksum,
                                           disconnect_errors=(ClientDisconnect,),
                                           max_bytes=settings.tus_max_chunk_bytes)
        new_offset = offset + result.written

        def advance(session: Session) -> None:
            uploads.record_offset(session, settings, upload_id, offset, new_offset)

        await run_in_threadpool(_unit, request, advance)
        if new_offset == upload.length and not result.disconnected:
            if upload.length > settings.upload_inline_complete_bytes:
                uploads.complete_in_background(settings, _store(request), upload_id, lock,
                                               uploader)
                lock = None  # the completion thread lets go of it after its commit
            else:
                failure = await run_in_threadpool(_finish, request, upload_id, uploader)
                if failure is not None:
                    raise failure
        expires_at = utcnow() + uploads.expiry_delta(settings)
    except ProtocolError as exc:
        return _error(exc)
    finally:
        if lock is not None:
            lock.release()
    headers = {"Upload-Offset": str(new_offset)}
    if new_offset < upload.length:
        headers["Upload-Expires"] = protocol.http_date(expires_at)
    return Response(status_code=204, headers=_tus_headers(headers))


def _finish(request: Request, upload_id: str, uploader: Uploader) -> ProtocolError | None:
    """Complete under the caller's lock; a refusal's discard commits, then it is reported."""
    failure: ProtocolError | None = None

    def work(session: Session) -> None:
        nonlocal failure
        try:
            uploads.complete(session, _settings(request), _store(request), upload_id, uploader)
        except ProtocolError as exc:
            failure = exc

    _unit(request, work)
    return failure


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
