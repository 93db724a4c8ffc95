"""TusUpload: the state of one resumable (tus 1.0.0) upload.

The bytes live in a temporary file (`tmp_path`) until the upload completes; then the original
is stored through the ObjectStore under `object_key` and `completed_at` is set. Unfinished
uploads past `expires_at` are removed by `service.uploads.service.expire_uploads`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedMixin, IdMixin, UTCDateTime


class TusUpload(IdMixin, CreatedMixin, Base):
    """One upload, made through an invite link (leader) or by a signed-in staff member."""

    __tablename__ = "tus_uploads"

    invite_id: Mapped[str | None] = mapped_column(
        ForeignKey("invites.id", ondelete="CASCADE"), nullable=True, index=True
    )
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    length: Mapped[int] = mapped_column(BigInteger, nullable=False)
    offset: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSON, nullable=False, default=dict
    )
    object_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    tmp_path: Mapped[str] = mapped_column(String(1000), nullable=False)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def complete(self) -> bool:
        """Whether every byte has arrived and the original is stored."""
        return self.completed_at is not None
