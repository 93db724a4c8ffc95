"""Leader and invite rules.

An invite is one personal link per leader and campaign. The token (256 random bits) is
returned once, to be shown to staff as a link and QR code; the database keeps only its
SHA-256. Re-issuing a link replaces the hash on the same row, so the old link dies at once.
Revoking sets ``revoked_at``; the leader's pages refuse revoked and expired links for
recording, but every token ever issued also has a :class:`WithdrawalKey` (same hash, a long
lifetime), so the person's own link always opens the page that withdraws consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from sqlalchemy.orm import Session

from service.audit.service import record
from service.leaders.repository import invite_for_leader
from service.leaders.schemas import LeaderIn
from service.models import Campaign, Invite, Leader, User, WithdrawalKey, new_id, utcnow
from service.security import hash_token, new_token, tokens_match

DEFAULT_INVITE_DAYS = 30
DEFAULT_WITHDRAWAL_DAYS = 3650
"""How long a link keeps opening its withdrawal page (``Settings.withdrawal_link_days``)."""


class LeaderError(Exception):
    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


def create_leader(db: Session, organisation_id: str, data: LeaderIn) -> Leader:
    leader = Leader(id=new_id(), organisation_id=organisation_id, **data.model_dump())
    db.add(leader)
    db.flush()
    return leader


def update_leader(db: Session, leader: Leader, data: LeaderIn) -> Leader:
    for key, value in data.model_dump().items():
        setattr(leader, key, value)
    db.flush()
    return leader


def invite_link(public_url: str, token: str) -> str:
    """The leader's personal link: ``<public_url>/i/<token>``."""
    return f"{public_url.rstrip('/')}/i/{token}"


def invite_state(invite: Invite, now: datetime | None = None) -> str:
    """active | opened | expired | revoked (what staff see on the board and list)."""
    now = now or utcnow()
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at <= now:
        return "expired"
    return "opened" if invite.opened_at is not None else "active"


def is_usable(invite: Invite, now: datetime | None = None) -> bool:
    """True if the link may be used now (not revoked, not expired)."""
    return invite_state(invite, now) in ("active", "opened")


@dataclass(frozen=True)
class IssuedInvite:
    invite: Invite
    token: str
    """The secret part of the link; not stored anywhere, shown once."""


def default_expiry(campaign: Campaign, now: datetime | None = None) -> datetime:
    """The campaign deadline, or 30 days from now when it has none (or it has passed)."""
    now = now or utcnow()
    if campaign.deadline is not None and campaign.deadline > now:
        return campaign.deadline
    return now + timedelta(days=DEFAULT_INVITE_DAYS)


def issue_invite(
    db: Session,
    campaign: Campaign,
    leader: Leader,
    *,
    expires_at: datetime | None = None,
    language: str | None = None,
    actor: User | None = None,
    withdrawal_days: int = DEFAULT_WITHDRAWAL_DAYS,
) -> IssuedInvite:
    """Create the leader's link for this campaign, or re-issue it (the old link stops working).

    Staff decide which campaign language the leader records in: the leader's language must be
    one of the campaign's target languages.
    """
    if campaign.organisation_id != leader.organisation_id:
        raise LeaderError("that leader is not in this organisation", code="not_found")
    targets = {row.language for row in campaign.languages}
    if leader.language not in targets:
        raise LeaderError(
            f"{leader.name}'s language ({leader.language}) is not a target language of this "
            "campaign; add it to the campaign first",
            code="language_not_in_campaign",
            field="leader_id",
        )
    now = utcnow()
    expires = expires_at or default_expiry(campaign, now)
    if expires <= now:
        raise LeaderError("the expiry date is in the past", field="expires_at")
    token = new_token()
    invite = invite_for_leader(db, campaign.id, leader.id)
    if invite is None:
        invite = Invite(id=new_id(), campaign_id=campaign.id, leader_id=leader.id)
        db.add(invite)
    invite.token_hash = hash_token(token)
    invite.expires_at = expires
    invite.revoked_at = None
    invite.opened_at = None
    invite.language = language or leader.language
    db.flush()
    # the same token keeps opening the withdrawal page long after the link stops recording
    db.add(WithdrawalKey(token_hash=invite.token_hash, invite_id=invite.id,
                         expires_at=now + timedelta(days=withdrawal_days)))
    db.flush()
    if actor is not None:
        record(db, actor, "invite.issue", "invite", invite.id,
               f"link issued for campaign {campaign.id[:8]}, expires {expires:%Y-%m-%d}")
    return IssuedInvite(invite=invite, token=token)


def revoke_invite(db: Session, invite: Invite, *, actor: User | None = None) -> None:
    """The link stops working now for recording (idempotent); withdrawal still works."""
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        if actor is not None:
            record(db, actor, "invite.revoke", "invite", invite.id,
                   f"link revoked (campaign {invite.campaign_id[:8]})")
    db.flush()


def token_matches(invite: Invite, token: str) -> bool:
    """True if ``token`` is this invite's current token (constant-time)."""
    return tokens_match(invite.token_hash, hash_token(token))


def qr_svg(link: str) -> bytes:
    """The link as a QR code, SVG (error correction M, dark on white, scales cleanly)."""
    qr = segno.make(link, error="m", micro=False)
    import io

    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=8, border=4, dark="#000000", light="#ffffff",
            xmldecl=False, svgns=True, title="Invite link QR code")
    return buffer.getvalue()
