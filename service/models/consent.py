"""Consent: who agreed to what, when, having seen which wording.

No clip is compiled or published without a non-withdrawn consent that covers the use (the
rules are in ``service/consent/service.py``). The row keeps the exact wording version and the
language the person saw, and the channels they agreed to. Withdrawing sets `withdrawn_at`.

The record itself is never deleted: it is the evidence of what was agreed, and when (UK GDPR
art. 7(1)). When the person, their clip or the whole campaign is erased, the row stays with
its links to the person cut (``leader_id``, ``clip_id``, ``invite_id`` and ``campaign_id`` set
to NULL, the free-text ``note`` emptied) and ``erased_at`` set; ``subject_ref`` is a keyed
pseudonym (HMAC of the leader's id with the secret key) that lets an organisation answer "did
this person consent, and when did they withdraw?" for someone who gives their old id, without
the row naming anyone. ``organisation_id`` keeps the trail visible to its organisation.
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
    campaign_id: Mapped[str | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), nullable=True, index=True
    )
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    """Whose record this is; stays when the campaign is deleted."""
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
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the person's media and details were erased (the row is then pseudonymous)."""
    subject_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)

    @property
    def active(self) -> bool:
        """Whether this consent still holds (not withdrawn)."""
        return self.withdrawn_at is None


class WithdrawalKey(IdMixin, CreatedMixin, Base):
    """A withdraw-only capability: the hash of a leader's link token, valid far longer.

    Why a separate row: the invite row's ``token_hash`` is replaced when staff re-issue the
    link, and revoked or expired links are refused for recording. Withdrawal must outlive all
    that ("withdraw at any time"), so every token ever issued also gets a row here with the
    same SHA-256 and its own long lifetime. The person keeps the one link they were given; the
    pages open it for withdrawal even when it no longer opens for recording.
    """

    __tablename__ = "withdrawal_keys"

    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    invite_id: Mapped[str] = mapped_column(
        ForeignKey("invites.id", ondelete="CASCADE"), nullable=False, index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
