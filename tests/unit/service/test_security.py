"""Password hashing, tokens, CSRF comparison and the rate limiter."""

from __future__ import annotations

import hashlib

from argon2 import extract_parameters
from argon2.low_level import Type

from service.security import (
    RateLimiter,
    check_csrf,
    hash_password,
    hash_token,
    new_token,
    verify_password,
)


def test_passwords_are_argon2id_salted_and_verified():
    first, second = hash_password("a long passphrase"), hash_password("a long passphrase")
    assert first != second  # salted
    params = extract_parameters(first)
    assert params.type is Type.ID and params.memory_cost >= 19 * 1024
    assert verify_password(first, "a long passphrase")
    assert not verify_password(first, "a long passphrasE")
    assert not verify_password(None, "a long passphrase")
    assert not verify_password("not a hash", "x")


def test_tokens_have_at_least_128_bits_and_are_stored_as_sha256():
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    token = tokens.pop()
    assert len(token) >= 43 and all(c.isalnum() or c in "-_" for c in token)
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()


def test_csrf_check_accepts_form_or_header_and_refuses_empty():
    assert check_csrf("abc", "abc", None)
    assert check_csrf("abc", None, "abc")
    assert not check_csrf("abc", "abd", None)
    assert not check_csrf("abc", None, None)
    assert not check_csrf("", "", "")


def test_rate_limiter_window_per_key():
    limiter = RateLimiter(3)
    assert [limiter.hit("1.2.3.4", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.hit("5.6.7.8", now=3)  # another client is not affected
    assert limiter.retry_after("1.2.3.4", now=3) == 57
    assert limiter.hit("1.2.3.4", now=60.5)  # the first hit left the window
    assert not limiter.hit("1.2.3.4", now=60.6)
