"""Rules for clips: staff upload with a consent record, review, trim, text and caption timing.

Functions take a session and rows, check the rule, change the rows and ``flush``; they never
commit (the request does) and never know HTTP. Each raises :class:`ClipError` with a stable
code and an English message for the person who asked.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from service import jobs
from service.audit.service import record
from service.clips.reasons import is_reason
from service.clips.schemas import CueIn, StaffUploadIn
from service.consent import service as consent
from service.models import Campaign, Clip, Consent, Leader, User, new_id
from service.settings import Settings
from service.storage import ObjectStore
from workers.media.formats import ACCEPTED_DESCRIPTION, is_accepted
from workers.media.languages import is_valid_tag
from workers.media.workdirs import process_dir

CHUNK = 1024 * 1024
REVIEWABLE = ("ready", "approved", "rejected")
STAFF_WORDING_VERSION = "staff-upload-1"


class ClipError(Exception):
    """A rule was broken; ``code`` is stable, ``message`` is for the person."""

    def __init__(self, message: str, code: str, status_code: int = 400):
        super().__init__(message)
        self.message, self.code, self.status_code = message, code, status_code


# --- staff upload ----------------------------------------------------------------------------


def _safe_name(filename: str) -> str:
    name = Path(filename or "clip").name
    return re.sub(r"[^\w.\- ]", "_", name)[:200] or "clip"


def store_original(store: ObjectStore, key: str, stream: IO[bytes], limit: int,
                   work_dir: Path) -> tuple[str, int]:
    """Copy ``stream`` to storage under ``key`` (whole or not at all); return sha256 and size.

    Streams through a temporary file in ``work_dir`` in 1 MB chunks, so memory does not grow
    with the upload, and refuses (storing nothing) past ``limit`` bytes.
    """
    digest = hashlib.sha256()
    size = 0
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=work_dir, prefix=".upload-", delete=True) as tmp:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise ClipError(f"the file is larger than the limit of {limit // 1_000_000} MB",
                                "too_large", 413)
            digest.update(chunk)
            tmp.write(chunk)
        tmp.flush()
        if size == 0:
            raise ClipError("the file is empty", "empty_file")
        store.put_file(key, tmp.name, "application/octet-stream")
    return digest.hexdigest(), size


def staff_upload(session: Session, settings: Settings, store: ObjectStore, campaign: Campaign,
                 user: User, form: StaffUploadIn, filename: str, content_type: str,
                 stream: IO[bytes]) -> Clip:
    """Store one file a staff member received by other means, with how consent was obtained.

    The clip starts ``received``; ``clip.probe`` is sent once the request commits.
    """
    if not is_valid_tag(form.language):
        raise ClipError(f"'{form.language[:40]}' is not a language tag like 'ur' or 'pa-Arab'",
                        "bad_language")
    if not is_accepted(content_type, filename):
        raise ClipError(f"'{_safe_name(filename)}' is not a type we accept; send "
                        f"{ACCEPTED_DESCRIPTION}", "not_media", 415)
    if form.consent_date > date.today():
        raise ClipError("the date consent was obtained cannot be in the future", "bad_date")
    leader = None
    if form.leader_id:
        leader = session.get(Leader, form.leader_id)
        if leader is None or leader.organisation_id != campaign.organisation_id:
            raise ClipError("there is no such leader in your organisation", "not_found", 404)
    clip_id = new_id()
    key = f"originals/{campaign.id}/{clip_id}"
    sha, size = store_original(store, key, stream, settings.max_upload_bytes,
                               process_dir(Path(settings.data_dir) / "work") / "uploads")
    clip = Clip(
        id=clip_id, campaign_id=campaign.id, leader_id=leader.id if leader else None,
        language=form.language, original_key=key, original_sha256=sha,
        original_filename=_safe_name(filename), content_type=content_type[:100] or "",
        size_bytes=size, status="received", source="staff_upload",
        speaker_name=form.speaker_name.strip(), speaker_role=form.speaker_role.strip(),
    )
    session.add(clip)
    session.flush()
    session.add(Consent(
        clip_id=clip.id, leader_id=clip.leader_id, campaign_id=campaign.id,
        agreed_at=datetime.combine(form.consent_date, time(12, 0), tzinfo=UTC),
        wording_version=STAFF_WORDING_VERSION, wording_language="en",
        channels=list(form.channels or ["all"]), shows_role_agreed=form.shows_role_agreed,
        method=form.consent_method, recorded_by_user_id=user.id, note=form.consent_note.strip(),
        organisation_id=campaign.organisation_id,
    ))
    session.flush()
    record(session, user, "clip.upload", "clip", clip.id,
           f"uploaded with {form.consent_method} consent (campaign {campaign.id[:8]})")
    jobs.enqueue("clip.probe", session=session, clip_id=clip.id)
    return clip


# --- review ----------------------------------------------------------------------------------


def _audit(session: Session, actor: User | None, action: str, clip: Clip, summary: str) -> None:
    if actor is not None:
        record(session, actor, action, "clip", clip.id,
               f"{summary} (campaign {clip.campaign_id[:8]}, {clip.language})")


def approve(session: Session, clip: Clip, *, actor: User | None = None) -> None:
    """Approve a probed clip; refused without a valid consent (it could never be compiled)."""
    if clip.status not in REVIEWABLE:
        raise ClipError(f"a clip that is '{clip.status}' cannot be approved", "not_reviewable",
                        409)
    if not consent.may_use(session, clip, "compile"):
        raise ClipError("this clip has no consent record (or consent was withdrawn), so it "
                        "cannot be approved", "no_consent", 409)
    clip.status = "approved"
    clip.reject_reason_code = clip.reject_note = None
    session.flush()
    _audit(session, actor, "clip.approve", clip, "approved")


def reject(session: Session, clip: Clip, reason_code: str | None, note: str, *,
           actor: User | None = None) -> None:
    """Reject with a coded reason the leader sees translated (and a note for ``other``)."""
    if clip.status not in REVIEWABLE:
        raise ClipError(f"a clip that is '{clip.status}' cannot be rejected", "not_reviewable",
                        409)
    if not reason_code or not is_reason(reason_code):
        raise ClipError("choose a reason for rejecting the clip", "reason_required")
    if reason_code == "other" and not note.strip():
        raise ClipError("write a note for the leader when the reason is 'other'",
                        "note_required")
    clip.status = "rejected"
    clip.reject_reason_code = reason_code
    clip.reject_note = note.strip() or None
    session.flush()
    _audit(session, actor, "clip.reject", clip, f"rejected: {reason_code}")


def set_trim(session: Session, clip: Clip, start: float | None, end: float | None, *,
             actor: User | None = None) -> None:
    """Keep ``start``..``end`` seconds of the original (``None``: from the start / to the end)."""
    duration = clip.duration
    if start is not None and end is not None and end <= start:
        raise ClipError("the trim end must be after its start", "bad_trim")
    if duration is not None:
        if start is not None and start >= duration:
            raise ClipError(f"the trim start is past the end of the clip ({duration:.2f} s)",
                            "bad_trim")
        if end is not None and end > duration + 0.05:
            raise ClipError(f"the trim end is past the end of the clip ({duration:.2f} s)",
                            "bad_trim")
        keep = (end if end is not None else duration) - (start or 0.0)
        if keep < 1.0:
            raise ClipError("the trimmed clip must keep at least 1 second", "bad_trim")
    clip.trim_start = round(start, 3) if start else None
    clip.trim_end = round(end, 3) if end is not None else None
    session.flush()
    _audit(session, actor, "clip.edit", clip, "trim changed")


def _clean_lines(lines: list[str] | None, expected: int, what: str) -> list[str] | None:
    if lines is None:
        return None
    cleaned = [" ".join(line.split()) for line in lines]
    if not any(cleaned):
        return None
    if len(cleaned) != expected:
        raise ClipError(f"{what} must have {expected} sentences (one per sentence of the "
                        f"message), not {len(cleaned)}", "bad_text")
    if not all(cleaned):
        raise ClipError(f"every sentence of {what} needs text", "bad_text")
    return cleaned


def set_text(session: Session, clip: Clip, campaign: Campaign, sentences: list[str] | None,
             translation: list[str] | None, *, actor: User | None = None) -> None:
    """Set what the clip says (its caption line) and, optionally, its own translation line."""
    expected = len(campaign.sentences)
    clip.sentences = _clean_lines(sentences, expected, "the clip's text")
    clip.translation = _clean_lines(translation, expected, "the translation")
    session.flush()
    _audit(session, actor, "clip.edit", clip, "caption text changed")


def set_cues(session: Session, clip: Clip, cues: list[CueIn] | None, *,
             actor: User | None = None) -> None:
    """Manual caption timing: one cue per sentence, in seconds of the original, in order."""
    if not cues:
        clip.caption_cues = None
        session.flush()
        _audit(session, actor, "clip.edit", clip, "caption timing cleared")
        return
    previous_end = 0.0
    for n, cue in enumerate(cues, start=1):
        if cue.end <= cue.start:
            raise ClipError(f"caption {n} ends before it starts", "bad_cues")
        if cue.start < previous_end - 1e-6:
            raise ClipError(f"caption {n} starts before caption {n - 1} ends", "bad_cues")
        if clip.duration is not None and cue.end > clip.duration + 0.05:
            raise ClipError(f"caption {n} ends after the clip ({clip.duration:.2f} s)",
                            "bad_cues")
        previous_end = cue.end
    clip.caption_cues = [{"start": round(c.start, 3), "end": round(c.end, 3)} for c in cues]
    session.flush()
    _audit(session, actor, "clip.edit", clip, "caption timing changed")
