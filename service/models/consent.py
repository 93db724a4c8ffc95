"""Consent: who agreed to what, when, having seen which wording.

No clip is compiled or published without a non-withdrawn consent for it (enforced where the
pipeline starts work, not only in the page). The row keeps the exact wording version and the
language the person saw, and the channels they agreed to. Withdrawing sets `withdrawn_at`; the
record itself is never deleted (it is the evidence of what was agreed, and when).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, utcnow

CONSENT_METHODS = ("link", "signed_form", "email", "other")


class Consent(IdMixin, CreatedMixin, Base):
    """One person's agreement for one clip (before the upload completes: for one invite)."""

    __tablename__ = "consents"

    clip_id: Mapped[str | None] = mapped_column(
        ForeignKey("clips.id", ondelete="SET NULL"), nullable=True, index=True
    )
    invite_id: Mapped[str | None] = mapped_column(
        ForeignKey("invites.id", ondelete="SET NULL"), nullable=True, index=True
    )
    leader_id: Mapped[str | None] = mapped_column(
        ForeignKey("leaders.id", ondelete="SET NULL"), nullable=True, index=True
    )
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    wording_version: Mapped[str] = mapped_column(String(50), nullable=False)
    wording_language: Mapped[str] = mapped_column(String(35), nullable=False)
    channels: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    shows_role_agreed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False, default="link")
    """link | signed_form | email | other"""
    recorded_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def active(self) -> bool:
        """Whether this consent still holds (not withdrawn)."""
        return self.withdrawn_at is None
