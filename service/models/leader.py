"""Leaders (the trusted voices) and their personal invite links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, CreatedMixin, IdMixin, UTCDateTime


class Leader(IdMixin, CreatedMixin, Base):
    """A faith or community leader an organisation invites to record the message."""

    __tablename__ = "leaders"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    """Their role or organisation, e.g. "Imam, Central Mosque"."""
    community: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    language: Mapped[str] = mapped_column(String(35), nullable=False)
    contact: Mapped[str | None] = mapped_column(String(320), nullable=True)

    invites: Mapped[list[Invite]] = relationship(
        back_populates="leader", cascade="all, delete-orphan", passive_deletes=True
    )


class Invite(IdMixin, CreatedMixin, Base):
    """One personal link per leader and campaign; only the SHA-256 of its token is stored.

    Re-issuing replaces ``token_hash`` on the same row, so the old link stops working at once.
    """

    __tablename__ = "invites"
    __table_args__ = (UniqueConstraint("campaign_id", "leader_id"),)

    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    leader_id: Mapped[str] = mapped_column(
        ForeignKey("leaders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    language: Mapped[str] = mapped_column(String(35), nullable=False)
    """The language the leader's page opens in (usually the leader's language)."""

    leader: Mapped[Leader] = relationship(back_populates="invites", lazy="joined")
    campaign = relationship("Campaign")
