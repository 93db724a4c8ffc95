"""The audit log of staff actions, and the reports of erasures.

An :class:`AuditEvent` says who (a staff user) did what (a verb) to which object (kind and
id), and when. It never holds an IP address, a token or the name of a leader: ``summary`` is
written by the service from ids, titles and codes only, so erasing a person leaves the log
true and free of them. The actor's e-mail is copied at the time (accountability survives the
account's deletion); it is staff data, not the data of the people in the videos.

An :class:`ErasureReport` lists every object an erasure removed (object keys are built from
ids, never from names) and the compiles it withdrew.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedMixin, IdMixin

AUDIT_ACTIONS = (
    "clip.approve", "clip.reject", "clip.edit", "clip.upload", "compile.create",
    "invite.issue", "invite.revoke", "leader.erase", "clip.erase", "campaign.delete",
    "retention.run",
)


class AuditEvent(IdMixin, CreatedMixin, Base):
    """One staff action."""

    __tablename__ = "audit_events"

    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    actor_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    actor_email: Mapped[str] = mapped_column(String(320), nullable=False, default="")
    """The actor at the time; ``system`` for scheduled jobs."""
    action: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    object_type: Mapped[str] = mapped_column(String(40), nullable=False)
    object_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")


class ErasureReport(IdMixin, CreatedMixin, Base):
    """What one erasure removed: kept without personal data, as proof the erasure happened."""

    __tablename__ = "erasure_reports"

    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    requested_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    scope: Mapped[str] = mapped_column(String(20), nullable=False)
    """``leader`` | ``clip`` | ``campaign`` | ``retention``."""
    subject_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The keyed pseudonym of the erased leader (see ``Consent.subject_ref``), if any."""
    clip_ids: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    objects_removed: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    local_files_removed: Mapped[int] = mapped_column(nullable=False, default=0)
    """Work, preview and cache files removed from this machine's data folder."""
    compiles_withdrawn: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
