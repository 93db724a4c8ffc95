"""Sending e-mail (password-reset links) over SMTP with the standard library.

Settings: ``CHORUS_SMTP_HOST``, ``_PORT`` (587), ``_USER``, ``_PASSWORD``, ``_STARTTLS``
(on by default: the message is refused rather than sent in clear to a server that cannot
upgrade), ``_FROM``. Without a host nothing can be sent and :class:`MailError` says so.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from service.settings import Settings


class MailError(RuntimeError):
    """The message could not be sent; the text says why (no secrets in it)."""


def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send a plain-text message to ``to``; raises :class:`MailError` on any failure."""
    if not settings.smtp_host:
        raise MailError("e-mail is not set up (CHORUS_SMTP_HOST is empty)")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="chorus")
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=settings.smtp_timeout_seconds) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls:
                if not smtp.has_extn("starttls"):
                    raise MailError(f"the SMTP server {settings.smtp_host} does not offer "
                                    "STARTTLS (set CHORUS_SMTP_STARTTLS=false only on a "
                                    "trusted network)")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except MailError:
        raise
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"the SMTP server {settings.smtp_host}:{settings.smtp_port} refused "
                        f"or failed: {type(exc).__name__}") from exc
