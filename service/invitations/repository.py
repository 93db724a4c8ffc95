"""Queries of the leader side: invites by token hash, the message in a language, consents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clips.repository import campaign_text
from service.models import Campaign, Clip, Consent, Invite


def invite_by_hash(session: Session, token_hash: str) -> Invite | None:
    """The invite whose token hashes to `token_hash` (only hashes are stored)."""
    return session.scalar(select(Invite).where(Invite.token_hash == token_hash))


def message_in(session: Session, campaign_id: str, language: str) -> list[str] | None:
    """The campaign's message in `language` (the script, or its approved translation: the
    clips domain's rule). None while any sentence lacks one: a half-translated prompt would
    mislead the leader."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return None
    message = campaign_text(session, campaign).message_in(language)
    return list(message) if message else None


def consents_for_invite(session: Session, invite_id: str) -> list[Consent]:
    """Every consent given through this invite, newest first."""
    return list(session.scalars(
        select(Consent).where(Consent.invite_id == invite_id).order_by(Consent.agreed_at.desc())
    ).all())


def unattached_consent(session: Session, invite_id: str) -> Consent | None:
    """The newest active consent not yet tied to a clip (given before this recording)."""
    return session.scalar(
        select(Consent).where(
            Consent.invite_id == invite_id, Consent.clip_id.is_(None),
            Consent.withdrawn_at.is_(None),
        ).order_by(Consent.agreed_at.desc()).limit(1)
    )


def clips_for_invite(session: Session, invite_id: str) -> list[Clip]:
    """The clips recorded through this invite, newest first."""
    return list(session.scalars(
        select(Clip).where(Clip.invite_id == invite_id).order_by(Clip.created_at.desc())
    ).all())
