"""Queries for leaders and invites, always scoped to an organisation."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Campaign, Invite, Leader
from service.security import hash_token


def get_leader(db: Session, organisation_id: str, leader_id: str) -> Leader | None:
    return db.scalar(
        select(Leader).where(Leader.id == leader_id, Leader.organisation_id == organisation_id)
    )


def list_leaders(db: Session, organisation_id: str) -> Sequence[Leader]:
    return db.scalars(
        select(Leader)
        .where(Leader.organisation_id == organisation_id)
        .order_by(Leader.language, Leader.name)
    ).all()


def get_invite(db: Session, campaign: Campaign, invite_id: str) -> Invite | None:
    """The invite if it belongs to ``campaign`` (itself already checked for organisation)."""
    return db.scalar(
        select(Invite).where(Invite.id == invite_id, Invite.campaign_id == campaign.id)
    )


def invites_for_campaign(db: Session, campaign_id: str) -> Sequence[Invite]:
    return db.scalars(select(Invite).where(Invite.campaign_id == campaign_id)).unique().all()


def invite_for_leader(db: Session, campaign_id: str, leader_id: str) -> Invite | None:
    return db.scalar(
        select(Invite).where(Invite.campaign_id == campaign_id, Invite.leader_id == leader_id)
    )


def find_invite_by_token(db: Session, token: str) -> Invite | None:
    """The invite whose link carries ``token`` (looked up by hash), whatever its state."""
    return db.scalar(select(Invite).where(Invite.token_hash == hash_token(token)))
