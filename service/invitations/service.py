"""Rules of the leader's link: is the invite usable, consent, withdrawal, status, uploads.

Every error a leader can meet is an `InviteError` with a code from `service.i18n.ERRORS`
(translated on the page) and the HTTP status to answer with.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.erasure.service import withdraw_compiles
from service.invitations import repository
from service.models import (
    Clip,
    Compile,
    CompileClip,
    Consent,
    Invite,
    Leader,
    TusUpload,
    WithdrawalKey,
    utcnow,
)
from service.security import RateLimiter, hash_token
from service.uploads.service import add_completion_hook

#: The version of the consent wording (the gettext strings in templates/leader/consent.html).
#: Change it whenever that wording changes, so every Consent row says what the person saw.
CONSENT_WORDING_VERSION = "2026-11-a"

#: Channels a leader may agree to, in the order shown. Codes are stored; labels are gettext.
CHANNELS = ("facebook", "instagram", "whatsapp", "youtube", "tiktok", "x", "website",
            "newsletter", "screens", "broadcast")


class InviteError(Exception):
    """A leader-facing error: a stable code (translated on the page) and an HTTP status."""

    def __init__(self, code: str, status: int, invite: Invite | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.invite = invite  # known for an expired or revoked link: its page language


def find_invite(session: Session, token: str) -> Invite:
    """The usable invite for `token`; 404 if unknown, 410 if revoked or expired."""
    if not token or len(token) > 200:
        raise InviteError("invite.not_found", 404)
    invite = repository.invite_by_hash(session, hash_token(token))
    if invite is None:
        raise InviteError("invite.not_found", 404)
    if invite.revoked_at is not None:
        raise InviteError("invite.revoked", 410, invite)
    if invite.expires_at <= utcnow():
        raise InviteError("invite.expired", 410, invite)
    return invite


def find_for_withdrawal(session: Session, token: str) -> Invite:
    """The invite a link may withdraw consent for: revoked, expired or re-issued alike.

    Looks the token up among the withdrawal keys (every token ever issued, valid for
    ``Settings.withdrawal_link_days``), then among current invite tokens (links made before
    withdrawal keys existed). 404 if unknown or past the withdrawal lifetime.
    """
    if not token or len(token) > 200:
        raise InviteError("invite.not_found", 404)
    digest = hash_token(token)
    key = session.scalar(select(WithdrawalKey).where(WithdrawalKey.token_hash == digest))
    if key is not None:
        invite = session.get(Invite, key.invite_id) if key.expires_at > utcnow() else None
    else:
        invite = repository.invite_by_hash(session, digest)
    if invite is None:
        raise InviteError("invite.not_found", 404)
    return invite


def mark_opened(invite: Invite) -> None:
    """Record the first time the link was opened (the board shows who has)."""
    if invite.opened_at is None:
        invite.opened_at = utcnow()


def recording_language(invite: Invite) -> str:
    """The language the leader records in: the leader's language (the page may differ)."""
    leader: Leader = invite.leader
    return leader.language or invite.language


@dataclass(frozen=True)
class ConsentAnswers:
    """What the leader ticked on the consent form."""

    agree_recording: bool
    agree_shows_role: bool
    channels: tuple[str, ...]
    wording_language: str
    english_shown: bool


def give_consent(session: Session, invite: Invite, answers: ConsentAnswers) -> Consent:
    """Store a consent for the next recording through this invite (422 if incomplete)."""
    if not answers.agree_recording or not answers.agree_shows_role:
        raise InviteError("consent.incomplete", 422)
    channels = [c for c in CHANNELS if c in set(answers.channels)]
    if not channels:
        raise InviteError("consent.no_channel", 422)
    note = "English wording shown beside the translation" if answers.english_shown else ""
    consent = Consent(
        invite_id=invite.id, leader_id=invite.leader_id, campaign_id=invite.campaign_id,
        agreed_at=utcnow(), wording_version=CONSENT_WORDING_VERSION,
        wording_language=answers.wording_language, channels=channels,
        shows_role_agreed=answers.agree_shows_role, method="link", note=note,
        organisation_id=invite.campaign.organisation_id if invite.campaign else None,
    )
    session.add(consent)
    session.flush()
    return consent


def withdraw_consent(session: Session, invite: Invite) -> int:
    """Withdraw every active consent given through this invite; return how many.

    The rows stay (they record what was agreed, and when it was withdrawn). Work stops at
    once: a compile in progress drops the person's clips at its next stage (each stage asks
    ``service.consent`` again), every finished compile they are in is withdrawn (its outputs
    are no longer offered), and the next compile leaves them out.
    """
    count = 0
    now = utcnow()
    consents = repository.consents_for_invite(session, invite.id)
    for consent in consents:
        if consent.withdrawn_at is None:
            consent.withdrawn_at = now
            count += 1
    session.flush()
    clip_ids = {c.id for c in repository.clips_for_invite(session, invite.id)}
    clip_ids |= {c.clip_id for c in consents if c.clip_id}
    if count and clip_ids:
        compile_ids = set(session.scalars(select(CompileClip.compile_id).where(
            CompileClip.clip_id.in_(clip_ids), CompileClip.status != "skipped")))
        done = set(session.scalars(select(Compile.id).where(
            Compile.id.in_(compile_ids), Compile.status == "done")))
        withdraw_compiles(session, done, "consent_withdrawn")
    return count


def has_active_consent(session: Session, invite: Invite) -> bool:
    return any(c.withdrawn_at is None
               for c in repository.consents_for_invite(session, invite.id))


def link_consent_to_clip(session: Session, upload: TusUpload, clip: Clip) -> None:
    """Completion hook: the consent given before recording now covers this clip."""
    if upload.invite_id is None:
        return
    consent = repository.unattached_consent(session, upload.invite_id)
    if consent is not None:
        consent.clip_id = clip.id
        session.flush()


@dataclass(frozen=True)
class Status:
    """What the leader sees when they come back."""

    clips: list[Clip]
    latest: Clip | None
    consent_active: bool
    can_record: bool


def status_for(session: Session, invite: Invite) -> Status:
    clips = repository.clips_for_invite(session, invite.id)
    latest = clips[0] if clips else None
    consent_active = has_active_consent(session, invite)
    can_record = latest is None or latest.status in ("rejected", "failed")
    return Status(clips, latest, consent_active, can_record)


add_completion_hook(link_consent_to_clip)


_limiters: dict[int, RateLimiter] = {}


def guess_limiter(per_minute: int) -> RateLimiter:
    """The process-wide limiter of failed link look-ups per client IP (against guessing)."""
    limiter = _limiters.get(per_minute)
    if limiter is None:
        limiter = _limiters[per_minute] = RateLimiter(per_minute)
    return limiter
