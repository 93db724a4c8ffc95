"""Queries about clips, always scoped to an organisation where a person is asking.

"May be compiled" is decided by ``service.consent.service`` (approved, with a consent that
holds); :func:`compilable_clips` and :func:`has_valid_consent` ask it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.consent import service as consent
from service.models import Campaign, Clip, Consent


def compilable_clips(session: Session, campaign_id: str) -> Sequence[Clip]:
    """Approved clips of the campaign with valid consent (the rule: ``service.consent``)."""
    return consent.usable_clips(session, campaign_id)


def has_valid_consent(session: Session, clip: Clip) -> bool:
    """Whether this one clip has a consent that allows compiling it (see ``service.consent``)."""
    return bool(consent.may_use(session, clip, "compile"))


def get_clip(session: Session, organisation_id: str, clip_id: str) -> Clip | None:
    """The clip if it belongs to a campaign of the organisation, else ``None``."""
    stmt = (
        select(Clip)
        .join(Campaign, Campaign.id == Clip.campaign_id)
        .where(Clip.id == clip_id, Campaign.organisation_id == organisation_id)
    )
    return session.scalar(stmt)


def campaign_clips(session: Session, campaign_id: str) -> Sequence[Clip]:
    """Every clip of a campaign, newest first within each language."""
    stmt = (
        select(Clip)
        .where(Clip.campaign_id == campaign_id)
        .order_by(Clip.language, Clip.created_at.desc())
    )
    return session.scalars(stmt).all()


def consents_for(session: Session, clip: Clip) -> Sequence[Consent]:
    """Every consent record that concerns the clip (directly or through its invite)."""
    return consent.consents_of(session, clip)
