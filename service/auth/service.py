"""Staff sign-in: check a password, start and end server-side sessions, reset passwords.

The cookie carries a random token; the ``staff_sessions`` row is keyed by its SHA-256, so the
database never holds a working session token. Signing out deletes the row: the cookie is dead
at once, on every device that copied it. A session ends at its absolute ``expires_at`` or
when unused for its ``idle_seconds``, whichever comes first.

Per-account throttling: after ``login_attempts_per_account`` wrong passwords the account is
locked for ``login_lockout_minutes`` (even the right password is refused meanwhile; a
password reset unlocks it). Unknown e-mails are counted the same way in memory, so the
answers do not tell which addresses have accounts.

Password-reset links carry a random token; only its SHA-256 is stored; it works once and
for ``password_reset_minutes``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.models import PasswordReset, StaffSession, User, utcnow
from service.security import (
    RateLimiter,
    client_key,
    hash_password,
    hash_token,
    new_token,
    password_needs_rehash,
)
from service.security import verify_password as _verify
from service.settings import Settings

SEEN_PRECISION = timedelta(seconds=30)
"""``last_seen_at`` is written at most this often (not on every request)."""


class AccountLocked(Exception):
    """Too many wrong passwords for this account; sign-in is refused until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until

    @property
    def minutes(self) -> int:
        return max(1, -(-int((self.until - utcnow()).total_seconds()) // 60))

    def message(self) -> str:
        return (f"Too many wrong passwords for this account. It is locked until "
                f"{self.until:%H:%M} UTC (about {self.minutes} minutes). Wait, or reset the "
                "password by e-mail.")


_unknown_accounts: dict[tuple[int, int], RateLimiter] = {}


def _unknown_limiter(settings: Settings) -> RateLimiter:
    key = (settings.login_attempts_per_account, settings.login_lockout_minutes)
    limiter = _unknown_accounts.get(key)
    if limiter is None:
        limiter = _unknown_accounts[key] = RateLimiter(
            settings.login_attempts_per_account,
            window_seconds=settings.login_lockout_minutes * 60.0)
    return limiter


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(db: Session, email: str, password: str,
                 settings: Settings | None = None) -> User | None:
    """The active user with this email and password, or None (same time either way).

    With ``settings``, wrong passwords are counted per account and :class:`AccountLocked`
    is raised while the account is locked.
    """
    email = normalise_email(email)
    user = db.scalar(select(User).where(User.email == email))
    now = utcnow()
    if settings is not None:
        _check_lock(user, email, settings, now)
    if not _verify(user.password_hash if user else None, password):
        if settings is not None:
            _count_failure(user, email, settings, now)
        return None
    if user is None or not user.active:
        return None
    user.failed_logins = 0
    user.locked_until = None
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _check_lock(user: User | None, email: str, settings: Settings, now: datetime) -> None:
    if user is None:
        wait = _unknown_limiter(settings).retry_after(client_key(email, settings.secret_key))
        if wait:
            raise AccountLocked(now + timedelta(seconds=wait))
        return
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)


def _count_failure(user: User | None, email: str, settings: Settings, now: datetime) -> None:
    if user is None:
        _unknown_limiter(settings).hit(client_key(email, settings.secret_key))
        return
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= settings.login_attempts_per_account:
        user.failed_logins = 0
        user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)


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
        last_seen_at=now,
        idle_seconds=settings.session_idle_minutes * 60,
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
    now = utcnow()
    last_seen = row.last_seen_at or row.created_at
    idle = row.idle_seconds is not None and last_seen + timedelta(seconds=row.idle_seconds) <= now
    if row.expires_at <= now or idle or not row.user.active:
        db.delete(row)
        return None
    if now - last_seen >= SEEN_PRECISION:
        row.last_seen_at = now
    return row


def end_session(db: Session, token: str | None) -> None:
    """Delete the session behind ``token`` (signing out)."""
    if token:
        db.execute(delete(StaffSession).where(StaffSession.id == hash_token(token)))


def end_all_sessions(db: Session, user_id: str) -> None:
    """Sign a user out everywhere (e.g. after a password change or deactivation)."""
    db.execute(delete(StaffSession).where(StaffSession.user_id == user_id))


def end_other_sessions(db: Session, user_id: str, keep_token: str | None) -> None:
    """Sign a user out everywhere but the session behind ``keep_token``."""
    query = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep_token:
        query = query.where(StaffSession.id != hash_token(keep_token))
    db.execute(query)


def set_password(db: Session, user: User, password: str) -> None:
    """Store a new password (already checked) and lift any lock."""
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None


def start_password_reset(db: Session, email: str, settings: Settings) -> tuple[User, str] | None:
    """A new reset token for the active account with ``email`` (returns it once), or None.

    Earlier unused links of that account stop working: only the newest one is valid.
    """
    user = db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active:
        return None
    db.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    token = new_token()
    now = utcnow()
    db.add(PasswordReset(id=hash_token(token), user_id=user.id, created_at=now,
                         expires_at=now + timedelta(minutes=settings.password_reset_minutes)))
    db.flush()
    return user, token


def find_password_reset(db: Session, token: str) -> PasswordReset | None:
    """The unused, unexpired reset behind ``token`` for an active account, or None."""
    if not token:
        return None
    row = db.get(PasswordReset, hash_token(token))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row if row.user.active else None


def finish_password_reset(db: Session, reset: PasswordReset, password: str) -> User:
    """Use the reset once: set the password, unlock, and end every session of the account."""
    reset.used_at = utcnow()
    set_password(db, reset.user, password)
    end_all_sessions(db, reset.user_id)
    return reset.user
