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


def test_rate_limiter_releases_a_key_when_only_retry_after_is_asked():
    """The link pages ask ``retry_after`` first and count a hit only on a wrong token: a
    blocked key must be free again once its hits leave the window, with no hit in between."""
    limiter = RateLimiter(3)
    for t in (0, 1, 2):
        assert limiter.hit("k", now=t)
    assert limiter.retry_after("k", now=30) == 30
    assert limiter.retry_after("k", now=59.5) == 1
    assert limiter.retry_after("k", now=60.01) == 0  # the first hit expired
    assert limiter.retry_after("k", now=62.5) == 0
    assert len(limiter) == 0  # an emptied key is forgotten


def test_rate_limiter_memory_is_bounded():
    limiter = RateLimiter(2, max_keys=100)
    for i in range(1000):
        limiter.hit(f"key{i}", now=i / 1000)  # all still inside the window
    assert len(limiter) <= 100
    for i in range(1000, 1100):
        limiter.hit(f"key{i}", now=120)  # the old ones expired: pruned, not evicted
    assert len(limiter) == 100


def test_client_key_is_a_keyed_hash_not_the_address():
    from service.security import client_key

    key = client_key("203.0.113.7", "secret-one")
    assert "203.0.113.7" not in key and len(key) == 32
    assert key == client_key("203.0.113.7", "secret-one")
    assert key != client_key("203.0.113.7", "secret-two")
    assert key != client_key("203.0.113.8", "secret-one")
    assert hashlib.sha256(b"203.0.113.7").hexdigest()[:32] != key
