"""The leader's link pages over HTTP against a real server: statuses, headers, languages,
consent, withdrawal, status after review, and the limit on guessing links."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service.db import dispose_engines, unit_of_work
from service.models import Clip, Consent, Invite
from tests.integration.leader_env import Server, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("pages"), languages=("ur", "pl")) as srv:
        yield srv
    dispose_engines()


def _consents(server: Server, lang: str) -> list[Consent]:
    with unit_of_work(server.seed.settings) as session:
        return list(session.scalars(select(Consent).where(
            Consent.invite_id == server.seed.invite_ids[lang])).all())


def test_invite_page_headers_language_and_opened(server: Server) -> None:
    token = server.seed.invites["pl"]
    r = httpx.get(f"{server.url}/i/{token}")
    assert r.status_code == 200
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    assert "noindex" in r.headers["x-robots-tag"]
    assert '<html lang="pl" dir="ltr">' in r.text
    assert "Zaszczep się przeciw grypie" in r.text  # the approved Polish message
    with unit_of_work(server.seed.settings) as session:
        invite = session.get(Invite, server.seed.invite_ids["pl"])
        assert invite is not None and invite.opened_at is not None
    # Switching language: the page follows, and a cookie remembers the choice.
    r = httpx.get(f"{server.url}/i/{token}?lang=ar")
    assert '<html lang="ar" dir="rtl">' in r.text
    assert r.cookies.get("chorus_lang") == "ar"
    r = httpx.get(f"{server.url}/i/{token}", cookies={"chorus_lang": "ro"})
    assert '<html lang="ro" dir="ltr">' in r.text
    # The message to read stays in the leader's language whatever the page language.
    assert "Zaszczep się" in r.text


def test_wrong_expired_and_revoked_links(server: Server) -> None:
    r = httpx.get(f"{server.url}/i/not-a-real-token", headers={"Accept-Language": "pl"})
    assert r.status_code == 404
    assert '<html lang="pl"' in r.text and "Ten link nie działa" in r.text
    assert r.headers["referrer-policy"] == "no-referrer"
    settings = server.seed.settings
    with unit_of_work(settings) as session:
        invite = session.get(Invite, server.seed.invite_ids["ur"])
        assert invite is not None
        invite.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    token = server.seed.invites["ur"]
    r = httpx.get(f"{server.url}/i/{token}")
    assert r.status_code == 410 and '<html lang="ur" dir="rtl">' in r.text
    assert 'data-code="invite.expired"' in r.text
    with unit_of_work(settings) as session:
        invite = session.get(Invite, server.seed.invite_ids["ur"])
        assert invite is not None
        invite.expires_at = datetime.now(UTC) + timedelta(days=1)
        invite.revoked_at = datetime.now(UTC)
    r = httpx.get(f"{server.url}/i/{token}")
    assert r.status_code == 410 and 'data-code="invite.revoked"' in r.text
    # The upload endpoint refuses the revoked link too.
    r = httpx.post(f"{server.url}/uploads/", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": "10", "Chorus-Invite": token})
    assert r.status_code == 410
    with unit_of_work(settings) as session:
        invite = session.get(Invite, server.seed.invite_ids["ur"])
        assert invite is not None
        invite.revoked_at = None


def test_consent_needs_both_boxes_and_a_channel(server: Server) -> None:
    token = server.seed.invites["pl"]
    before = len(_consents(server, "pl"))
    r = httpx.post(f"{server.url}/i/{token}/consent",
                   data={"agree_recording": "yes", "channels": ["facebook"], "lang": "pl"})
    assert r.status_code == 303 and "error=consent.incomplete" in r.headers["location"]
    page = httpx.get(f"{server.url}{r.headers['location']}")
    assert "Zaznacz oba pola" in page.text
    r = httpx.post(f"{server.url}/i/{token}/consent",
                   data={"agree_recording": "yes", "agree_shows_role": "yes", "lang": "pl"})
    assert "error=consent.no_channel" in r.headers["location"]
    # Without consent, the record page sends the leader back to the form.
    r = httpx.get(f"{server.url}/i/{token}/record")
    assert r.status_code == 303 and "consent.required" in r.headers["location"]
    assert len(_consents(server, "pl")) == before

    r = httpx.post(f"{server.url}/i/{token}/consent", data={
        "agree_recording": "yes", "agree_shows_role": "yes",
        "channels": ["website", "bogus", "facebook"], "lang": "pl"})
    assert r.status_code == 303 and r.headers["location"].endswith("/record?lang=pl")
    consents = _consents(server, "pl")
    assert len(consents) == before + 1
    newest = max(consents, key=lambda c: c.agreed_at)
    assert newest.channels == ["facebook", "website"]  # known codes only, in list order
    assert newest.wording_language == "pl" and newest.method == "link"
    r = httpx.get(f"{server.url}/i/{token}/record")
    assert r.status_code == 200 and 'id="recorder"' in r.text
    assert "/static/vendor/tus.min.js" in r.text and "<script>" not in r.text


def test_status_after_review_and_withdrawal(server: Server) -> None:
    token = server.seed.invites["pl"]
    seed = server.seed
    with unit_of_work(seed.settings) as session:
        session.add(Clip(campaign_id=seed.campaign_id, leader_id=seed.leader_ids["pl"],
                         invite_id=seed.invite_ids["pl"], language="pl",
                         original_key="clips/x/y/original.webm", original_sha256="0" * 64,
                         status="rejected", reject_reason_code="hard_to_hear",
                         reject_note="Proszę mówić głośniej."))
    r = httpx.get(f"{server.url}/i/{token}")
    assert 'data-status="rejected"' in r.text
    assert "Nie mogliśmy użyć Twojego filmu. Nie słyszeliśmy Cię wyraźnie" in r.text
    assert "Uwaga od zespołu:" in r.text and "Proszę mówić głośniej." in r.text
    assert 'id="consent"' in r.text  # a rejected leader can record again

    assert any(c.withdrawn_at is None for c in _consents(server, "pl"))
    r = httpx.get(f"{server.url}/i/{token}/withdraw")
    assert r.status_code == 200 and "Tak, wycofuję zgodę" in r.text
    r = httpx.post(f"{server.url}/i/{token}/withdraw", data={"lang": "pl"})
    assert r.status_code == 303 and "withdrawn=1" in r.headers["location"]
    assert all(c.withdrawn_at is not None for c in _consents(server, "pl"))
    r = httpx.get(f"{server.url}{r.headers['location']}")
    assert "Wycofałeś(-aś) zgodę" in r.text


def test_guessing_links_is_rate_limited(tmp_path: Path) -> None:
    with running_server(tmp_path, languages=("pl",), invite_rate_limit_per_minute=3) as srv:
        for _ in range(3):
            assert httpx.get(f"{srv.url}/i/guess").status_code == 404
        r = httpx.get(f"{srv.url}/i/guess")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        # Even a right link is refused from that address for a while.
        assert httpx.get(f"{srv.url}/i/{srv.seed.invites['pl']}").status_code == 429
        r = httpx.post(f"{srv.url}/uploads/", headers={
            "Tus-Resumable": "1.0.0", "Upload-Length": "10", "Chorus-Invite": "guess"})
        assert r.status_code == 429
