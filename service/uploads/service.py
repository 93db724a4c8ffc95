"""Rules of resumable uploads: create, append a chunk, complete, terminate, expire.

State lives in the `TusUpload` row; bytes in a temporary file under
`<data_dir>/uploads/` until the last byte arrives. Then `on_complete` verifies the SHA-256,
stores the ORIGINAL through the ObjectStore (never modified afterwards), creates the `Clip`
(status `received`) and, once the transaction has committed, enqueues `clip.probe`.

Memory stays flat whatever the upload size: chunks are written to disk as they arrive, and the
whole-file hash is computed by reading the finished file in 1 MiB blocks.

Extension points: `add_completion_hook(hook)` runs `hook(session, upload, clip)` after the
clip is created (e.g. link the leader's consent to the clip, or record how a staff upload's
consent was obtained). Functions here only flush; the caller's unit of work commits.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import after_commit
from service.models import Clip, TusUpload, new_id, utcnow
from service.settings import Settings
from service.storage import ObjectStore
from service.uploads.protocol import (
    CHECKSUM_MISMATCH,
    Checksum,
    ProtocolError,
    parse_sha256_hex,
)

log = logging.getLogger(__name__)

_READ_BLOCK = 1024 * 1024
#: Media types a clip may have; anything else is refused at creation (415).
_EXTENSIONS = {
    "video/webm": ".webm", "video/mp4": ".mp4", "video/quicktime": ".mov",
    "video/x-matroska": ".mkv", "video/3gpp": ".3gp", "video/x-msvideo": ".avi",
    "video/mpeg": ".mpg", "video/ogg": ".ogv", "audio/webm": ".webm", "audio/mp4": ".m4a",
    "audio/mpeg": ".mp3", "audio/ogg": ".ogg", "audio/wav": ".wav", "audio/x-wav": ".wav",
}
_SAFE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,5}$")


@dataclass(frozen=True)
class Uploader:
    """Who is uploading: a leader through their invite, or a signed-in staff member.

    `kind` is "invite" or "staff"; the upload belongs to that invite or user and only they
    can resume, inspect or delete it.
    """

    kind: str
    campaign_id: str
    invite_id: str | None = None
    user_id: str | None = None
    leader_id: str | None = None
    language: str | None = None
    speaker_name: str = ""
    speaker_role: str = ""

    def owns(self, upload: TusUpload) -> bool:
        if self.kind == "invite":
            return upload.invite_id is not None and upload.invite_id == self.invite_id
        return upload.user_id is not None and upload.user_id == self.user_id


CompletionHook = Callable[[Session, TusUpload, Clip], None]
_completion_hooks: list[CompletionHook] = []


def add_completion_hook(hook: CompletionHook) -> None:
    """Run `hook(session, upload, clip)` after every completed upload's clip is created."""
    if hook not in _completion_hooks:
        _completion_hooks.append(hook)


def uploads_dir(settings: Settings) -> Path:
    """Where unfinished uploads wait (on local disk even when originals go to S3)."""
    path = Path(settings.data_dir) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def media_type_of(metadata: dict[str, str]) -> str:
    """The declared media type (metadata `filetype`, else `type`), lower-cased, no params."""
    declared = metadata.get("filetype") or metadata.get("type") or ""
    return declared.split(";", 1)[0].strip().lower()


def create_upload(
    session: Session, settings: Settings, uploader: Uploader, length: int,
    metadata: dict[str, str],
) -> TusUpload:
    """Start an upload of `length` bytes (tus creation). Raises `ProtocolError` (413, 415, 400)."""
    if length > settings.max_upload_bytes:
        raise ProtocolError(413, "upload.too_large",
                            f"the file is {length} bytes; the limit is "
                            f"{settings.max_upload_bytes} bytes")
    if length == 0:
        raise ProtocolError(400, "upload.empty", "the file is empty")
    media_type = media_type_of(metadata)
    if media_type and media_type not in _EXTENSIONS:
        raise ProtocolError(415, "upload.not_media",
                            f"{media_type!r} is not a video or audio type we accept")
    parse_sha256_hex(metadata.get("sha256"))  # refuse a malformed hash now, not at the end
    upload_id = new_id()
    tmp_path = uploads_dir(settings) / f"{upload_id}.part"
    fd = os.open(tmp_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    upload = TusUpload(
        id=upload_id, invite_id=uploader.invite_id, user_id=uploader.user_id,
        campaign_id=uploader.campaign_id, length=length, offset=0, metadata_=dict(metadata),
        tmp_path=str(tmp_path),
        expires_at=utcnow() + timedelta(hours=settings.upload_expiry_hours),
    )
    session.add(upload)
    session.flush()
    return upload


def expiry_delta(settings: Settings) -> timedelta:
    """How long an unfinished upload is kept after its last activity."""
    return timedelta(hours=settings.upload_expiry_hours)


def get_upload(session: Session, upload_id: str, uploader: Uploader) -> TusUpload:
    """The caller's upload; 404 if missing or someone else's, 410 if it has expired."""
    upload = session.get(TusUpload, upload_id)
    if upload is None or not uploader.owns(upload):
        raise ProtocolError(404, "upload.not_found", "no such upload")
    if upload.completed_at is None and upload.expires_at <= utcnow():
        raise ProtocolError(410, "upload.expired", "this upload has expired; start again")
    return upload


@dataclass
class ChunkResult:
    """What a PATCH achieved: bytes kept and whether the client went away mid-way."""

    written: int
    disconnected: bool = False


async def write_chunk(
    upload: TusUpload, offset: int, body: AsyncIterator[bytes],
    checksum: Checksum | None, disconnect_errors: tuple[type[BaseException], ...] = (),
) -> ChunkResult:
    """Append the request body at `offset` to the upload's temporary file, streaming.

    The file is cut back to `offset` first (a crash may have left bytes past the recorded
    offset), and an exclusive lock keeps two PATCHes from writing at once (423). If the client
    disconnects, the bytes received so far are kept (tus resumes from there) unless a checksum
    was sent, in which case the partial chunk cannot be verified and is discarded. More bytes
    than the declared length: 413, chunk discarded. Checksum mismatch: 460, chunk discarded.
    """
    if offset != upload.offset:
        raise ProtocolError(409, "upload.offset_mismatch",
                            f"Upload-Offset {offset} does not match the server's {upload.offset}")
    hasher = hashlib.sha256() if checksum else None
    written = 0
    disconnected = False
    try:
        fh = open(upload.tmp_path, "r+b")  # noqa: SIM115 - closed in finally
    except FileNotFoundError:
        raise ProtocolError(410, "upload.expired", "this upload's data is gone") from None
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ProtocolError(423, "upload.locked",
                                "another request is writing this upload") from None
        fh.truncate(offset)
        fh.seek(offset)
        room = upload.length - offset
        try:
            async for chunk in body:
                if not chunk:
                    continue
                if written + len(chunk) > room:
                    fh.truncate(offset)
                    raise ProtocolError(413, "upload.too_large",
                                        "more bytes than the declared Upload-Length")
                fh.write(chunk)
                written += len(chunk)
                if hasher is not None:
                    hasher.update(chunk)
        except disconnect_errors:
            disconnected = True
        if checksum is not None and hasher is not None and (
            disconnected or hasher.digest() != checksum.digest
        ):
            fh.truncate(offset)
            if disconnected:
                return ChunkResult(0, True)
            raise ProtocolError(CHECKSUM_MISMATCH, "upload.checksum_mismatch",
                                "the chunk's sha256 does not match Upload-Checksum")
        fh.flush()
        os.fsync(fh.fileno())
        return ChunkResult(written, disconnected)
    finally:
        fh.close()


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in blocks (constant memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _suffix(media_type: str, filename: str) -> str:
    if media_type in _EXTENSIONS:
        return _EXTENSIONS[media_type]
    suffix = Path(filename).suffix.lower()
    return suffix if _SAFE_SUFFIX.match(suffix) else ".bin"


def _clean_filename(name: str) -> str:
    """Keep the leader's filename for reference only (never used as a path)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:255]


def _enqueue_probe(clip_id: str) -> None:
    """Ask S3's job layer to probe the clip, if the job layer exists in this build."""
    try:
        from service import jobs
    except ImportError:  # pragma: no cover - jobs.py is written by another part of the team
        log.info("service.jobs not available; clip %s waits for a probe", clip_id)
        return
    try:
        enqueue: Any = jobs.enqueue
        enqueue("clip.probe", clip_id=clip_id)
    except Exception:  # the clip is stored; workers re-enqueue 'received' clips at start
        log.exception("could not enqueue clip.probe for clip %s", clip_id)


def on_complete(
    session: Session, settings: Settings, store: ObjectStore, upload: TusUpload,
    uploader: Uploader,
) -> Clip:
    """The default completion: verify SHA-256, store the original, create the Clip.

    Idempotent: an upload already completed returns its clip. On a hash mismatch the upload
    is discarded (its bytes cannot be trusted) and 460 is raised.
    """
    if upload.completed_at is not None:
        existing = session.scalar(select(Clip).where(Clip.original_key == upload.object_key))
        if existing is not None:
            return existing
    expected = parse_sha256_hex(upload.metadata_.get("sha256"))
    actual = file_sha256(upload.tmp_path)
    if expected is not None and actual != expected:
        discard_upload(session, upload)
        raise ProtocolError(CHECKSUM_MISMATCH, "upload.checksum_mismatch",
                            "the file's sha256 does not match the one given at the start")
    clip_id = new_id()
    media_type = media_type_of(upload.metadata_)
    filename = _clean_filename(upload.metadata_.get("filename") or upload.metadata_.get("name", ""))
    key = f"clips/{upload.campaign_id}/{clip_id}/original{_suffix(media_type, filename)}"
    store.put_file(key, upload.tmp_path, media_type or "application/octet-stream")

    language = uploader.language or upload.metadata_.get("language") or "und"
    from service.invitations.repository import message_in  # the clip's text defaults to it

    clip = Clip(
        id=clip_id, campaign_id=upload.campaign_id, leader_id=uploader.leader_id,
        invite_id=upload.invite_id, language=language, original_key=key,
        original_sha256=actual, original_filename=filename,
        content_type=media_type or "application/octet-stream", size_bytes=upload.length,
        status="received", sentences=message_in(session, upload.campaign_id, language),
        speaker_name=(uploader.speaker_name or upload.metadata_.get("speaker_name", ""))[:200],
        speaker_role=(uploader.speaker_role or upload.metadata_.get("speaker_role", ""))[:200],
        source="recorded" if uploader.kind == "invite" else "staff_upload",
    )
    session.add(clip)
    upload.object_key = key
    upload.sha256 = actual
    upload.completed_at = utcnow()
    session.flush()
    for hook in list(_completion_hooks):
        hook(session, upload, clip)
    tmp = upload.tmp_path
    after_commit(session, lambda: _unlink(tmp))
    after_commit(session, lambda: _enqueue_probe(clip_id))
    return clip


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def discard_upload(session: Session, upload: TusUpload) -> None:
    """Forget an unfinished upload: its row and its temporary file (tus termination)."""
    _unlink(upload.tmp_path)
    session.delete(upload)
    session.flush()


def expire_uploads(session: Session, settings: Settings | None = None,
                   now: datetime | None = None) -> int:
    """Remove every unfinished upload past its expiry; return how many went.

    With `settings`, also removes orphan temporary files older than the expiry period (a
    crash between creating the file and committing its row leaves one).
    """
    moment = now or utcnow()
    expired = session.scalars(
        select(TusUpload).where(TusUpload.completed_at.is_(None), TusUpload.expires_at <= moment)
    ).all()
    for upload in expired:
        discard_upload(session, upload)
    if settings is not None:
        cutoff = (moment - timedelta(hours=settings.upload_expiry_hours)).timestamp()
        for path in uploads_dir(settings).glob("*.part"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff and session.get(TusUpload, path.stem) is None:
                    path.unlink()
    return len(expired)
