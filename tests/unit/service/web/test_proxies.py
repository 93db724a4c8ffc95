"""Client addresses: X-Forwarded-For is believed only from a trusted proxy.

The throttles of link look-ups and sign-in key on the client address. If anyone could set
it, an attacker would bypass them by varying the header, or lock out any chosen address.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.invitations import service as invitations
from tests.fixtures.staff import make_env


def _wrong_links(client: TestClient, count: int, forwarded: list[str]) -> list[int]:
    codes = []
    for i in range(count):
        response = client.get(f"/i/not-a-real-token-{i}",
                              headers={"X-Forwarded-For": forwarded[i % len(forwarded)]})
        codes.append(response.status_code)
    return codes


def test_forwarded_header_from_an_untrusted_peer_is_ignored(tmp_path, fast_hashing):
    invitations._limiters.clear()
    env = make_env(tmp_path, invite_rate_limit_per_minute=3)
    with TestClient(env.app, client=("198.51.100.9", 4000)) as attacker:
        codes = _wrong_links(attacker, 6, [f"203.0.113.{i}" for i in range(1, 7)])
    assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429, 429], codes
    # The address the attacker named is not locked out: it was never believed.
    with TestClient(env.app, client=("203.0.113.1", 4000)) as victim:
        assert victim.get("/i/not-a-real-token").status_code == 404
    invitations._limiters.clear()


def test_a_trusted_proxy_supplies_the_client_address(tmp_path, fast_hashing):
    invitations._limiters.clear()
    env = make_env(tmp_path, invite_rate_limit_per_minute=3, trusted_proxies="10.0.0.0/8")
    with TestClient(env.app, client=("10.1.2.3", 4000)) as proxy:
        # The proxy appends the real peer last; what the client wrote before it is ignored.
        codes = _wrong_links(proxy, 5, [f"192.0.2.{i}, 203.0.113.7" for i in range(5)])
        assert codes == [404, 404, 404, 429, 429], codes
        other = proxy.get("/i/not-a-real-token", headers={"X-Forwarded-For": "203.0.113.8"})
        assert other.status_code == 404  # another real client is not affected
    invitations._limiters.clear()


def test_trusted_proxies_refuse_a_wildcard_and_nonsense():
    import pytest
    from pydantic import ValidationError

    from service.settings import Settings

    with pytest.raises(ValidationError, match="any client"):
        Settings(trusted_proxies="*")
    with pytest.raises(ValidationError, match="not an IP"):
        Settings(trusted_proxies="proxy.example.org")
    assert Settings().trusted_proxy_list == []
    assert Settings(trusted_proxies="127.0.0.1, 10.0.0.0/8").trusted_proxy_list == [
        "127.0.0.1", "10.0.0.0/8"]
