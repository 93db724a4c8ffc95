"""Secrets: password hashes, random tokens, token hashes, CSRF checks and a rate limiter.

- Staff passwords are hashed with argon2id (argon2-cffi defaults, RFC 9106 low-memory).
- Invite links and staff session cookies carry a random token of 256 bits
  (``secrets.token_urlsafe(32)``); the database stores only its SHA-256, so a leaked
  database does not leak working links or sessions.
- CSRF: every state-changing staff request carries the session's CSRF token in a form field
  (``csrf_token``) or in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TOKEN_BYTES = 32
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

_hasher = PasswordHasher()  # argon2id by default
_DUMMY_HASH = _hasher.hash("chorus-timing-equaliser")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted, parameters encoded in the string)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; spends the same time when there is no such user."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older parameters and should be replaced at sign-in."""
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    """A new URL-safe random token with 256 bits of randomness."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest of ``token``: what the database stores for links and sessions."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; False if either is missing or empty."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def check_csrf(expected: str | None, form_value: str | None, header_value: str | None) -> bool:
    """True if the form field or the header carries the expected CSRF token."""
    return tokens_match(expected, form_value) or tokens_match(expected, header_value)


class RateLimiter:
    """An in-memory sliding-window limiter: at most ``per_minute`` hits per key per window.

    Hits older than the window are dropped whenever a key is looked at (``hit`` or
    ``retry_after``), so a key is free again one window after its last counted hit. Memory is
    bounded: at most ``max_keys`` keys are kept; past that, keys whose hits have all expired
    are dropped, then the keys idle the longest. Keys are what the caller chooses: the
    throttles pass :func:`client_key` (a keyed hash, never the address itself). Per process:
    with several web processes each allows the limit, which is enough to make guessing a
    256-bit link hopeless and to slow down abuse.
    """

    def __init__(self, per_minute: int, *, window_seconds: float = 60.0, max_keys: int = 100_000):
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        if max_keys <= 0:
            raise ValueError("max_keys must be positive")
        self.per_minute = per_minute
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> bool:
        """Count one hit for ``key``; False if it is over the limit (the hit is not counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._current(key, now)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._prune(now)
                hits = self._hits[key] = deque()
            if len(hits) >= self.per_minute:
                return False
            hits.append(now)
            # Most recently used last: the oldest idle keys are evicted first.
            self._hits[key] = self._hits.pop(key)
            return True

    def retry_after(self, key: str, now: float | None = None) -> int:
        """Seconds until ``key`` may try again (0 if it may now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._current(key, now)
            if not hits or len(hits) < self.per_minute:
                return 0
            return max(1, math.ceil(hits[0] + self.window - now))

    def __len__(self) -> int:
        """How many keys are held (for tests of the memory bound)."""
        return len(self._hits)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def _current(self, key: str, now: float) -> deque[float] | None:
        """The key's hits inside the window (expired ones dropped; an emptied key removed)."""
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]
        while len(self._hits) >= self.max_keys:  # all still active: evict the longest idle
            del self._hits[next(iter(self._hits))]


def client_key(address: str | None, secret: str) -> str:
    """A keyed hash of a client address, used as the throttles' key.

    The address itself is personal data and is never stored or logged; a keyed HMAC (with the
    service's secret) cannot be reversed by trying all 2**32 IPv4 addresses without the key.
    """
    return hmac.new(secret.encode("utf-8"), (address or "unknown").encode("utf-8"),
                    hashlib.sha256).hexdigest()[:32]
