"""Queries for campaigns, always scoped to an organisation."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.models import Campaign, Translation


def get_campaign(db: Session, organisation_id: str, campaign_id: str) -> Campaign | None:
    """The campaign if it exists AND belongs to the organisation; else None (→ 404)."""
    return db.scalar(
        select(Campaign)
        .where(Campaign.id == campaign_id, Campaign.organisation_id == organisation_id)
        .options(selectinload(Campaign.sentences), selectinload(Campaign.languages))
    )


def list_campaigns(db: Session, organisation_id: str) -> Sequence[Campaign]:
    return db.scalars(
        select(Campaign)
        .where(Campaign.organisation_id == organisation_id)
        .options(selectinload(Campaign.languages))
        .order_by(Campaign.created_at.desc())
    ).all()


def translations_by_sentence(
    db: Session, campaign_id: str, language: str
) -> dict[str, Translation]:
    """The campaign's translations into ``language``, keyed by sentence id."""
    rows = db.scalars(
        select(Translation).where(
            Translation.campaign_id == campaign_id, Translation.language == language
        )
    ).all()
    return {row.sentence_id: row for row in rows}


def all_translations(db: Session, campaign_id: str) -> Sequence[Translation]:
    return db.scalars(select(Translation).where(Translation.campaign_id == campaign_id)).all()
