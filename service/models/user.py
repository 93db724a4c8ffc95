"""Staff users and their server-side sign-in sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, utcnow

Role = Literal["admin", "editor", "viewer"]
ROLES: tuple[str, ...] = get_args(Role)


class User(IdMixin, CreatedMixin, Base):
    """A member of staff; ``password_hash`` is an argon2id hash, never the password."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'editor', 'viewer')", name="role"),)

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(10), nullable=False, default="viewer")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                               server_default="0")
    """Wrong passwords since the last good sign-in or lock (per-account throttling)."""
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Sign-in is refused until then, even with the right password."""

    organisation = relationship("Organisation", lazy="joined")


class StaffSession(Base):
    """A signed-in browser. ``id`` is the SHA-256 hex of the cookie token (never the token)."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    """The absolute end of the session, however active."""
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    idle_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The session ends when unused this long (the setting when it started)."""

    user = relationship("User", lazy="joined")


class PasswordReset(Base):
    """A password-reset link sent by e-mail. ``id`` is the SHA-256 hex of its token; it works
    once (``used_at``) and until ``expires_at``."""

    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user = relationship("User", lazy="joined")
