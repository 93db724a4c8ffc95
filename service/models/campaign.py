"""A campaign: the message (sentences), its target languages and their translations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, CreatedMixin, IdMixin, UTCDateTime

CAMPAIGN_STATUSES = ("draft", "collecting", "closed")
TRANSLATION_STATUSES = ("draft", "approved")


class Campaign(IdMixin, CreatedMixin, Base):
    __tablename__ = "campaigns"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    language: Mapped[str] = mapped_column(String(35), nullable=False, default="en")
    """BCP 47 tag of the source message."""
    translation_language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    """The language of the second caption line (usually the source language)."""
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    formats: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    intro_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    outro_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    logo_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    brand_background: Mapped[str] = mapped_column(String(7), nullable=False, default="#1d3557")
    brand_text: Mapped[str] = mapped_column(String(7), nullable=False, default="#ffffff")
    brand_accent: Mapped[str] = mapped_column(String(7), nullable=False, default="#e9c46a")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="collecting")

    sentences: Mapped[list[Sentence]] = relationship(
        back_populates="campaign",
        order_by="Sentence.position",
        cascade="all, delete-orphan",
    )
    languages: Mapped[list[CampaignLanguage]] = relationship(
        back_populates="campaign",
        order_by="CampaignLanguage.language",
        cascade="all, delete-orphan",
    )


class Sentence(IdMixin, Base):
    """One short sentence of the message: one caption segment."""

    __tablename__ = "sentences"
    __table_args__ = (UniqueConstraint("campaign_id", "position"),)

    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)

    campaign: Mapped[Campaign] = relationship(back_populates="sentences")


class CampaignLanguage(IdMixin, Base):
    """A target language of a campaign; ``language_name`` overrides the catalogue's name."""

    __tablename__ = "campaign_languages"
    __table_args__ = (UniqueConstraint("campaign_id", "language"),)

    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    language: Mapped[str] = mapped_column(String(35), nullable=False)
    language_name: Mapped[str | None] = mapped_column(String(100), nullable=True)

    campaign: Mapped[Campaign] = relationship(back_populates="languages")


class Translation(IdMixin, Base):
    """A sentence in one target language; only ``approved`` ones reach leaders and captions."""

    __tablename__ = "translations"
    __table_args__ = (
        UniqueConstraint("sentence_id", "language"),
        CheckConstraint("status IN ('draft', 'approved')", name="status"),
    )

    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sentence_id: Mapped[str] = mapped_column(
        ForeignKey("sentences.id", ondelete="CASCADE"), nullable=False, index=True
    )
    language: Mapped[str] = mapped_column(String(35), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft")
