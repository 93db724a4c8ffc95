"""Passwords: strength, per-account lockout, change, reset by e-mail, idle sessions."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from service.auth import service as auth_service
from service.auth.passwords import PasswordRejected, check_password
from service.db import unit_of_work
from service.mail import MailError, send_mail
from service.models import PasswordReset, StaffSession, User, utcnow
from service.settings import Settings
from tests.fixtures.staff import PASSWORD, csrf_from, login, make_env
from tests.integration.netutil import free_port

NEW_PASSWORD = "lantern orchard violin meadow"


@pytest.mark.parametrize("weak", ["aaaaaaaaaa", "password123", "qwertyuiop", "iloveyou12",
                                  "1234567890", "ann@leeds.gov.uk1", "short"])
def test_weak_passwords_are_refused_with_a_reason(weak):
    with pytest.raises(PasswordRejected) as caught:
        check_password(weak, email="ann@leeds.gov.uk", name="Ann")
    assert re.search(r"at least 10|common|too easy to guess", str(caught.value))


def test_strong_passwords_pass():
    for good in (PASSWORD, NEW_PASSWORD, "Tr0ub4dor&3xyz"):
        check_password(good, email="ann@leeds.gov.uk", name="Ann")


def test_admin_cannot_give_a_weak_password(env):
    admin = env.signed_in("ann@leeds.gov.uk", "admin")
    weak = admin.api("POST", "/api/users", json={
        "email": "vi@leeds.gov.uk", "name": "Vi", "role": "viewer", "password": "aaaaaaaaaa"})
    assert weak.status_code == 422 and "too easy to guess" in weak.json()["detail"]


def test_adding_an_address_of_another_organisation_says_nothing_about_it(env):
    env.user("bob@bradford.gov.uk", "editor", "Bradford Council")
    admin = env.signed_in("ann@leeds.gov.uk", "admin", "Leeds Council")
    env.user("ed@leeds.gov.uk", "editor", "Leeds Council")

    def add(email: str):
        return admin.api("POST", "/api/users", json={
            "email": email, "name": "X", "role": "viewer", "password": PASSWORD})

    elsewhere, here = add("bob@bradford.gov.uk"), add("ed@leeds.gov.uk")
    assert elsewhere.status_code == here.status_code == 422
    assert elsewhere.json() == here.json()
    assert "bradford" not in elsewhere.text.lower()
    page_elsewhere = admin.form("/staff", {"email": "bob@bradford.gov.uk", "name": "X",
                                           "role": "viewer", "password": PASSWORD})
    page_here = admin.form("/staff", {"email": "ed@leeds.gov.uk", "name": "X",
                                      "role": "viewer", "password": PASSWORD})
    assert page_elsewhere.status_code == page_here.status_code == 422
    message = "This email address cannot be used for a new account."
    assert message in page_elsewhere.text and message in page_here.text


def test_an_account_is_locked_after_wrong_passwords_with_a_clear_time(tmp_path, fast_hashing):
    env = make_env(tmp_path, login_attempts_per_account=3, login_lockout_minutes=15)
    env.user("ann@leeds.gov.uk")
    auth_service._unknown_accounts.clear()
    codes = []
    for _ in range(3):
        codes.append(login(env.client(), "ann@leeds.gov.uk", "wrong password here").status_code)
    assert codes == [401, 401, 401]
    locked = login(env.client(), "ann@leeds.gov.uk", PASSWORD)  # even the right one
    assert locked.status_code == 429
    assert "locked until" in locked.text and "UTC" in locked.text and "minutes" in locked.text
    # an unknown address answers the same way after as many tries (no enumeration)
    for _ in range(3):
        assert login(env.client(), "nobody@leeds.gov.uk", "wrong password").status_code == 401
    assert login(env.client(), "nobody@leeds.gov.uk", "x").status_code == 429
    # when the lock has passed, the right password works again
    with unit_of_work(env.settings) as db:
        user = db.scalars(select(User)).one()
        user.locked_until = utcnow() - timedelta(seconds=1)
    assert login(env.client(), "ann@leeds.gov.uk", PASSWORD).status_code == 303
    auth_service._unknown_accounts.clear()


def test_sessions_end_when_idle(tmp_path, fast_hashing):
    env = make_env(tmp_path, session_idle_minutes=20)
    staff = env.signed_in("ann@leeds.gov.uk")
    assert staff.get("/api/me").status_code == 200
    with unit_of_work(env.settings) as db:
        row = db.scalars(select(StaffSession)).one()
        assert row.idle_seconds == 20 * 60
        row.last_seen_at = utcnow() - timedelta(minutes=19)
    assert staff.get("/api/me").status_code == 200  # still in time: and seen again now
    with unit_of_work(env.settings) as db:
        row = db.scalars(select(StaffSession)).one()
        assert row.last_seen_at > utcnow() - timedelta(minutes=1)
        row.last_seen_at = utcnow() - timedelta(minutes=21)
    assert staff.get("/api/me").status_code == 401
    assert staff.get("/campaigns").status_code == 303  # pages send to sign-in again


def test_change_password_needs_the_current_one_and_ends_other_sessions(env):
    staff = env.signed_in("ann@leeds.gov.uk")
    other_device = env.client()
    login(other_device, "ann@leeds.gov.uk", PASSWORD)
    wrong = staff.api("POST", "/api/me/password",
                      json={"current_password": "not it at all", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422 and "current password is not right" in wrong.json()["detail"]
    weak = staff.api("POST", "/api/me/password",
                     json={"current_password": PASSWORD, "new_password": "aaaaaaaaaaaa"})
    assert weak.status_code == 422 and "too easy to guess" in weak.json()["detail"]
    page = staff.get("/account/password")
    assert page.status_code == 200 and 'autocomplete="new-password"' in page.text
    done = staff.form("/account/password", {"current_password": PASSWORD,
                                            "new_password": NEW_PASSWORD,
                                            "repeat_password": NEW_PASSWORD})
    assert done.status_code == 200 and "Your password is changed" in done.text
    assert staff.get("/api/me").status_code == 200  # this device stays signed in
    assert other_device.get("/api/me").status_code == 401
    assert login(env.client(), "ann@leeds.gov.uk", PASSWORD).status_code == 401
    assert login(env.client(), "ann@leeds.gov.uk", NEW_PASSWORD).status_code == 303


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_mail_is_sent_over_smtp_and_refused_without_starttls(smtp_server):
    inbox, port = smtp_server
    plain = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                     smtp_from="Chorus <chorus@leeds.gov.uk>")
    send_mail(plain, "ann@leeds.gov.uk", "Hello", "Body text")
    message = message_from_bytes(inbox.messages[0])
    assert message["To"] == "ann@leeds.gov.uk" and message["Subject"] == "Hello"
    assert message["From"] == "Chorus <chorus@leeds.gov.uk>"
    with pytest.raises(MailError, match="STARTTLS"):
        send_mail(Settings(smtp_host="127.0.0.1", smtp_port=port), "a@b.org", "x", "y")
    with pytest.raises(MailError, match="not set up"):
        send_mail(Settings(), "a@b.org", "x", "y")
    assert len(inbox.messages) == 1


def test_reset_by_email_works_once_and_expires(tmp_path, fast_hashing, smtp_server):
    inbox, port = smtp_server
    env = make_env(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                   password_reset_minutes=30)
    env.user("ann@leeds.gov.uk")
    signed_in = env.client()
    login(signed_in, "ann@leeds.gov.uk", PASSWORD)
    client = env.client()

    def ask(email: str):
        form = client.get("/password-reset")
        assert form.status_code == 200
        return client.post("/password-reset", data={"email": email,
                                                    "csrf_token": csrf_from(form.text)})

    unknown, known = ask("nobody@leeds.gov.uk"), ask("Ann@Leeds.gov.uk")
    assert unknown.status_code == known.status_code == 200
    assert "If an account exists for that address" in unknown.text
    assert "If an account exists for that address" in known.text
    assert inbox.arrived.wait(10) and len(inbox.messages) == 1
    body = message_from_bytes(inbox.messages[0]).get_payload(decode=True).decode()
    link = re.search(r"http://testserver(/password-reset/[A-Za-z0-9_-]+)", body).group(1)
    token = link.rsplit("/", 1)[1]
    with unit_of_work(env.settings) as db:
        row = db.scalars(select(PasswordReset)).one()
        assert row.id != token and token not in row.id  # only the hash is stored

    page = client.get(link)
    assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
    weak = client.post(link, data={"new_password": "aaaaaaaaaaaa", "repeat_password":
                                   "aaaaaaaaaaaa", "csrf_token": csrf_from(page.text)})
    assert weak.status_code == 422 and "too easy to guess" in weak.text
    page = client.get(link)
    done = client.post(link, data={"new_password": NEW_PASSWORD, "repeat_password":
                                   NEW_PASSWORD, "csrf_token": csrf_from(page.text)})
    assert done.status_code == 303 and done.headers["location"] == "/login?reset=1"
    assert "Your password is changed" in client.get("/login?reset=1").text
    assert signed_in.get("/api/me").status_code == 401  # every session ended
    assert login(env.client(), "ann@leeds.gov.uk", NEW_PASSWORD).status_code == 303
    again = client.get(link)  # single use
    assert again.status_code == 410 and "does not work" in again.text

    ask("ann@leeds.gov.uk")  # a new link, then let it expire
    assert len(inbox.messages) == 2
    body = message_from_bytes(inbox.messages[1]).get_payload(decode=True).decode()
    link = re.search(r"http://testserver(/password-reset/[A-Za-z0-9_-]+)", body).group(1)
    with unit_of_work(env.settings) as db:
        db.scalars(select(PasswordReset)).one().expires_at = utcnow() - timedelta(seconds=1)
    assert client.get(link).status_code == 410
