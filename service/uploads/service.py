"""Rules of resumable uploads: create, append a chunk, complete, terminate, expire.

State lives in the `TusUpload` row; bytes in a temporary file under
`<data_dir>/uploads/` until the last byte arrives. Then `complete` verifies the SHA-256,
stores the ORIGINAL through the ObjectStore (never modified afterwards), creates the `Clip`
(status `received`) and, once the transaction has committed, enqueues `clip.probe`.

Why uploads cannot be corrupted (tus clients retry the last chunk after a timeout, so two
PATCHes of the same bytes often overlap):

* an `UploadLock` (flock on the temporary file) is taken before the offset is checked and
  held until the chunk's offset AND the completion have committed, so no request truncates
  or rewrites bytes another is hashing;
* the offset moves only by a conditional `UPDATE ... WHERE offset = <old>`, completion only
  by `UPDATE ... WHERE completed_at IS NULL`, and `clips.upload_id` is unique: one upload
  makes at most one clip, whatever the database;
* the SHA-256 recorded is computed from the file as stored, under the lock.

Large uploads are completed after the last PATCH is answered, by a thread of this process
(`settings.upload_inline_complete_bytes`): not a queue job, because the bytes are on this
web node's disk (`infra/k8s/web-pvc.yaml`), which workers cannot read. The thread inherits
the lock; a process that dies first leaves `offset == length` with no clip, which the next
HEAD or the start of the next process completes (`complete_pending`).

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
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import jobs
from service.db import after_commit, unit_of_work
from service.models import Clip, Invite, TusUpload, new_id, utcnow
from service.settings import Settings
from service.storage import ObjectStore
from service.uploads.protocol import (
    CHECKSUM_MISMATCH,
    Checksum,
    ProtocolError,
    parse_sha256_hex,
)
from workers.media.formats import ACCEPTED_DESCRIPTION, extension_for, is_accepted
from workers.media.languages import is_valid_tag

log = logging.getLogger(__name__)

_READ_BLOCK = 1024 * 1024


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


def filename_of(metadata: dict[str, str]) -> str:
    return metadata.get("filename") or metadata.get("name", "")


def check_language(tag: str) -> str:
    """A staff upload's declared language: a well-formed BCP 47 tag, or 400.

    The compile builds output names from it (`subtitles/{lang}.srt`), so nothing else passes.
    """
    if not is_valid_tag(tag):
        raise ProtocolError(400, "upload.bad_language",
                            f"{tag[:40]!r} is not a language tag like 'ur' or 'pa-Arab'")
    return tag


def check_quota(session: Session, settings: Settings, uploader: Uploader) -> None:
    """Refuse (429) an invite that started or finished too many uploads in the window.

    One consent covers one recording; the quota stops a link (or whoever holds it) filling
    the disk or the review queue.
    """
    if uploader.kind != "invite" or uploader.invite_id is None:
        return
    since = utcnow() - timedelta(minutes=settings.upload_quota_window_minutes)
    started = session.scalar(select(func.count()).select_from(TusUpload).where(
        TusUpload.invite_id == uploader.invite_id, TusUpload.created_at >= since)) or 0
    finished = session.scalar(select(func.count()).select_from(Clip).where(
        Clip.invite_id == uploader.invite_id, Clip.created_at >= since)) or 0
    window = settings.upload_quota_window_minutes
    if started >= settings.upload_quota_created_per_invite:
        raise ProtocolError(429, "upload.quota",
                            f"this link started {started} uploads in the last {window} "
                            "minutes; wait before trying again")
    if finished >= settings.upload_quota_completed_per_invite:
        raise ProtocolError(429, "upload.quota",
                            f"this link sent {finished} recordings in the last {window} "
                            "minutes; wait before sending another")


def create_upload(
    session: Session, settings: Settings, uploader: Uploader, length: int,
    metadata: dict[str, str],
) -> TusUpload:
    """Start an upload of `length` bytes (tus creation). Raises `ProtocolError` (413, 415, 400,
    429)."""
    if length > settings.max_upload_bytes:
        raise ProtocolError(413, "upload.too_large",
                            f"the file is {length} bytes; the limit is "
                            f"{settings.max_upload_bytes} bytes")
    if length == 0:
        raise ProtocolError(400, "upload.empty", "the file is empty")
    media_type = media_type_of(metadata)
    if not is_accepted(media_type, filename_of(metadata)):
        raise ProtocolError(415, "upload.not_media",
                            f"{(media_type or filename_of(metadata))[:60]!r} is not a type we "
                            f"accept; send {ACCEPTED_DESCRIPTION}")
    parse_sha256_hex(metadata.get("sha256"))  # refuse a malformed hash now, not at the end
    check_quota(session, settings, uploader)
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
    upload = session.get(TusUpload, upload_id, populate_existing=True)
    if upload is None or not uploader.owns(upload):
        raise ProtocolError(404, "upload.not_found", "no such upload")
    if upload.completed_at is None and upload.expires_at <= utcnow():
        raise ProtocolError(410, "upload.expired", "this upload has expired; start again")
    return upload


# --- the lock ---------------------------------------------------------------------------------


class UploadLock:
    """An exclusive `flock` on an upload's temporary file, and the open file itself.

    Taken before the offset is checked; released only after the chunk's offset (and, for the
    last chunk, the completion) has committed. `flock` locks are per open file, so two
    requests conflict in one process as well as across processes on this node. A crashed
    process's lock goes with it.
    """

    def __init__(self, path: str) -> None:
        try:
            self.file: IO[bytes] = open(path, "r+b")  # noqa: SIM115 - closed by release()
        except FileNotFoundError:
            raise ProtocolError(410, "upload.expired", "this upload's data is gone") from None
        try:
            fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.close()
            raise ProtocolError(423, "upload.locked",
                                "another request is writing this upload; try again") from None
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self.file.close()  # closing the only descriptor drops the flock

    def __enter__(self) -> UploadLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass
class ChunkResult:
    """What a PATCH achieved: bytes kept and whether the client went away mid-way."""

    written: int
    disconnected: bool = False


async def write_chunk(
    lock: UploadLock, upload: TusUpload, offset: int, body: AsyncIterator[bytes],
    checksum: Checksum | None, disconnect_errors: tuple[type[BaseException], ...] = (),
    max_bytes: int | None = None,
) -> ChunkResult:
    """Append the request body at `offset` to the upload's temporary file, streaming.

    The caller holds `lock` and has checked `offset` against the committed row under it.
    The file is cut back to `offset` first (a crash may have left bytes past the recorded
    offset). If the client disconnects, the bytes received so far are kept (tus resumes from
    there) unless a checksum was sent, in which case the partial chunk cannot be verified and
    is discarded. More bytes than the declared length or than `max_bytes` (one chunk): 413,
    chunk discarded. Checksum mismatch: 460, chunk discarded.
    """
    fh = lock.file
    hasher = hashlib.sha256() if checksum else None
    written = 0
    disconnected = False
    fh.truncate(offset)
    fh.seek(offset)
    room = upload.length - offset
    try:
        async for chunk in body:
            if not chunk:
                continue
            if written + len(chunk) > room:
                raise ProtocolError(413, "upload.too_large",
                                    "more bytes than the declared Upload-Length")
            if max_bytes is not None and written + len(chunk) > max_bytes:
                raise ProtocolError(413, "upload.chunk_too_large",
                                    f"one PATCH may carry at most {max_bytes} bytes")
            fh.write(chunk)
            written += len(chunk)
            if hasher is not None:
                hasher.update(chunk)
    except disconnect_errors:
        disconnected = True
    except BaseException:
        fh.truncate(offset)
        raise
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


def record_offset(session: Session, settings: Settings, upload_id: str, old: int,
                  new: int) -> None:
    """Move the committed offset from `old` to `new`, or 409 if it is not at `old` any more.

    A conditional UPDATE, so the database, not the order of requests, decides.
    """
    result = session.execute(
        update(TusUpload)
        .where(TusUpload.id == upload_id, TusUpload.offset == old,
               TusUpload.completed_at.is_(None))
        .values(offset=new, expires_at=utcnow() + expiry_delta(settings))
        .execution_options(synchronize_session=False)
    )
    moved = getattr(result, "rowcount", 0)
    if moved != 1:
        raise ProtocolError(409, "upload.offset_mismatch", "the upload moved on")


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in blocks (constant memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _clean_filename(name: str) -> str:
    """Keep the leader's filename for reference only (never used as a path)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:255]


# --- completion -------------------------------------------------------------------------------


def clip_of_upload(session: Session, upload_id: str) -> Clip | None:
    return session.scalar(select(Clip).where(Clip.upload_id == upload_id))


def _check_invite_still_allows(session: Session, upload: TusUpload) -> None:
    """A leader's upload completes only while their link and consent still stand.

    Revoking a link, or withdrawing consent, while the bytes are still arriving stops the
    upload: no clip is made and the bytes are discarded.
    """
    if upload.invite_id is None:
        return
    from service.invitations.repository import unattached_consent

    invite = session.get(Invite, upload.invite_id, populate_existing=True)
    if invite is None or invite.revoked_at is not None:
        raise ProtocolError(410, "invite.revoked", "this link was withdrawn; nothing was kept")
    if invite.expires_at <= utcnow():
        raise ProtocolError(410, "invite.expired", "this link has expired; nothing was kept")
    if unattached_consent(session, invite.id) is None:
        raise ProtocolError(403, "consent.required",
                            "there is no consent for this recording; nothing was kept")


def complete(session: Session, settings: Settings, store: ObjectStore, upload_id: str,
             uploader: Uploader | None = None) -> Clip:
    """Turn a fully received upload into its clip, once (the caller holds its `UploadLock`).

    Idempotent: an upload already completed returns its clip. Refusals (the whole-file
    SHA-256 does not match, the link was revoked, consent was withdrawn) discard the upload
    and raise; the caller commits the discard, then reports.
    """
    upload = session.get(TusUpload, upload_id, populate_existing=True)
    if upload is None:
        raise ProtocolError(404, "upload.not_found", "no such upload")
    if upload.completed_at is not None:
        existing = clip_of_upload(session, upload.id)
        if existing is None:
            raise ProtocolError(409, "upload.complete", "this upload is complete")
        return existing
    if upload.offset != upload.length:
        raise ProtocolError(409, "upload.offset_mismatch", "bytes are still missing")
    try:
        _check_invite_still_allows(session, upload)
    except ProtocolError:
        discard_upload(session, upload)
        raise
    size = os.path.getsize(upload.tmp_path)
    if size != upload.length:
        # Never store a short original: send the client back to where the bytes end.
        upload.offset = min(size, upload.length)
        session.flush()
        raise ProtocolError(409, "upload.offset_mismatch",
                            f"only {size} of {upload.length} bytes are on disk; resume")
    expected = parse_sha256_hex(upload.metadata_.get("sha256"))
    actual = file_sha256(upload.tmp_path)
    if expected is not None and actual != expected:
        discard_upload(session, upload)
        raise ProtocolError(CHECKSUM_MISMATCH, "upload.checksum_mismatch",
                            "the file's sha256 does not match the one given at the start")
    # Copy first, claim after: the claim's write lock (SQLite locks the whole database) is
    # then held only for the few rows below, not for the copy of a large file.
    clip_id = new_id()
    media_type = media_type_of(upload.metadata_)
    filename = _clean_filename(filename_of(upload.metadata_))
    key = f"clips/{upload.campaign_id}/{clip_id}/original{extension_for(media_type, filename)}"
    store.put_file(key, upload.tmp_path, media_type or "application/octet-stream")
    result = session.execute(
        update(TusUpload).where(TusUpload.id == upload.id, TusUpload.completed_at.is_(None))
        .values(completed_at=utcnow()).execution_options(synchronize_session=False)
    )
    claimed = getattr(result, "rowcount", 0)
    session.refresh(upload)
    if claimed != 1:
        store.delete(key)
        existing = clip_of_upload(session, upload.id)
        if existing is None:
            raise ProtocolError(409, "upload.complete", "this upload is being completed")
        return existing

    if uploader is None:
        uploader = _uploader_of(session, upload)
    language = (uploader.language if uploader else None) or upload.metadata_.get("language") \
        or "und"
    from service.invitations.repository import message_in  # the clip's text defaults to it

    speaker_name = (uploader.speaker_name if uploader else "") or \
        upload.metadata_.get("speaker_name", "")
    speaker_role = (uploader.speaker_role if uploader else "") or \
        upload.metadata_.get("speaker_role", "")
    leader_id = uploader.leader_id if uploader else None
    if leader_id is None and upload.invite_id is not None:
        invite = session.get(Invite, upload.invite_id)
        leader_id = invite.leader_id if invite else None
    clip = Clip(
        id=clip_id, campaign_id=upload.campaign_id, leader_id=leader_id,
        invite_id=upload.invite_id, language=language, original_key=key,
        original_sha256=actual, original_filename=filename,
        content_type=media_type or "application/octet-stream", size_bytes=upload.length,
        status="received", sentences=message_in(session, upload.campaign_id, language),
        speaker_name=speaker_name[:200], speaker_role=speaker_role[:200],
        source="recorded" if upload.invite_id is not None else "staff_upload",
        upload_id=upload.id,
    )
    session.add(clip)
    upload.object_key = key
    upload.sha256 = actual
    try:
        session.flush()
    except IntegrityError:  # another completion won (the unique clips.upload_id)
        store.delete(key)
        raise ProtocolError(409, "upload.complete", "this upload is complete") from None
    for hook in list(_completion_hooks):
        hook(session, upload, clip)
    tmp = upload.tmp_path
    after_commit(session, lambda: _unlink(tmp))
    jobs.enqueue("clip.probe", session=session, clip_id=clip_id)
    return clip


def _uploader_of(session: Session, upload: TusUpload) -> Uploader | None:
    """Who made an upload, from the rows (a completion resumed without its request)."""
    if upload.invite_id is None:
        return None
    from service.invitations.service import recording_language

    invite = session.get(Invite, upload.invite_id)
    if invite is None:
        return None
    return Uploader(kind="invite", campaign_id=invite.campaign_id, invite_id=invite.id,
                    leader_id=invite.leader_id, language=recording_language(invite),
                    speaker_name=invite.leader.name, speaker_role=invite.leader.role)


_completer: ThreadPoolExecutor | None = None
_completer_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _completer
    with _completer_lock:
        if _completer is None:
            _completer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="upload-complete")
        return _completer


def complete_with_lock(settings: Settings, store: ObjectStore, upload_id: str,
                       lock: UploadLock, uploader: Uploader | None = None) -> None:
    """Complete in its own unit of work, then let go of `lock` (after the commit)."""
    try:
        failure: ProtocolError | None = None
        with unit_of_work(settings) as session:
            try:
                complete(session, settings, store, upload_id, uploader)
            except ProtocolError as exc:
                failure = exc  # the discard (if any) commits with the unit of work
        if failure is not None:
            log.info("upload %s was not completed: %s", upload_id, failure.code)
    except Exception:
        log.exception("completing upload %s failed; the next HEAD or restart retries",
                      upload_id)
    finally:
        lock.release()


def complete_in_background(settings: Settings, store: ObjectStore, upload_id: str,
                           lock: UploadLock, uploader: Uploader | None = None) -> None:
    """Hand `lock` to a completion thread of this process (large files, after the answer)."""
    _executor().submit(complete_with_lock, settings, store, upload_id, lock, uploader)


def complete_pending(session: Session, settings: Settings, store: ObjectStore,
                     upload_id: str | None = None) -> int:
    """Start completing every upload (or just `upload_id`) that has all its bytes but no clip
    (a process died between the last chunk and its completion); return how many started."""
    query = select(TusUpload.id).where(
        TusUpload.completed_at.is_(None), TusUpload.offset == TusUpload.length)
    if upload_id is not None:
        query = query.where(TusUpload.id == upload_id)
    rows = session.scalars(query).all()
    started = 0
    for pending_id in rows:
        upload = session.get(TusUpload, pending_id)
        if upload is None:
            continue
        try:
            lock = UploadLock(upload.tmp_path)
        except ProtocolError:
            continue  # someone holds it (and will complete it), or the bytes are gone
        complete_in_background(settings, store, pending_id, lock)
        started += 1
    return started


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
