"""Staff sign-in: check a password, start and end server-side sessions.

The cookie carries a random token; the ``staff_sessions`` row is keyed by its SHA-256, so the
database never holds a working session token. Signing out deletes the row: the cookie is dead
at once, on every device that copied it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.models import StaffSession, User, utcnow
from service.security import hash_password, hash_token, new_token, password_needs_rehash
from service.security import verify_password as _verify
from service.settings import Settings


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(db: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same time either way)."""
    user = db.scalar(select(User).where(User.email == normalise_email(email)))
    if not _verify(user.password_hash if user else None, password):
        return None
    if user is None or not user.active:
        return None
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(db: Session, user: User, settings: Settings) -> tuple[str, StaffSession]:
    """A new session for ``user``: returns the cookie token (shown once) and the row."""
    token = new_token()
    now = utcnow()
    # Tidy up: this user's expired sessions are of no use to anyone.
    db.execute(delete(StaffSession).where(StaffSession.user_id == user.id,
                                          StaffSession.expires_at <= now))
    row = StaffSession(
        id=hash_token(token),
        user_id=user.id,
        csrf_token=new_token(),
        created_at=now,
        expires_at=now + timedelta(hours=settings.session_hours),
    )
    db.add(row)
    db.flush()
    return token, row


def load_session(db: Session, token: str | None) -> StaffSession | None:
    """The live session for a cookie token, or None if unknown, expired or the user is off."""
    if not token:
        return None
    row = db.get(StaffSession, hash_token(token))
    if row is None:
        return None
    if row.expires_at <= utcnow() or not row.user.active:
        db.delete(row)
        return None
    return row


def end_session(db: Session, token: str | None) -> None:
    """Delete the session behind ``token`` (signing out)."""
    if token:
        db.execute(delete(StaffSession).where(StaffSession.id == hash_token(token)))


def end_all_sessions(db: Session, user_id: str) -> None:
    """Sign a user out everywhere (e.g. after a password change or deactivation)."""
    db.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
