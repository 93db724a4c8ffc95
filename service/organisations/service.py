"""Organisations and their staff accounts (used by ``chorus user add`` and the demo)."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.passwords import PasswordRejected, check_password
from service.auth.service import normalise_email
from service.models import ROLES, Organisation, User, new_id
from service.security import hash_password
from service.text import TextRejected, check_text

EMAIL_UNAVAILABLE = (
    "This email address cannot be used for a new account. If the person is already on your "
    "staff list below, they need no new account; otherwise use another address of theirs."
)
"""One answer whether the address is used in this organisation or in another one: an
admin must not learn which addresses other organisations have."""
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(Exception):
    """A staff account cannot be created as asked; the message says why."""


class EmailUnavailable(AccountError):
    """The address already has an account (here or elsewhere: the message does not say)."""


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:80] or "organisation"


def get_or_create_organisation(db: Session, name: str) -> tuple[Organisation, bool]:
    """The organisation called ``name`` (matched by slug), created if missing."""
    name = name.strip()
    if not name:
        raise AccountError("the organisation needs a name")
    slug = slugify(name)
    found = db.scalar(select(Organisation).where(Organisation.slug == slug))
    if found is not None:
        return found, False
    organisation = Organisation(id=new_id(), name=name, slug=slug)
    db.add(organisation)
    db.flush()
    return organisation, True


def add_user(
    db: Session, organisation: Organisation, *, email: str, name: str, role: str, password: str
) -> User:
    """A new staff account; refuses a taken email, an unknown role or a weak password."""
    email = normalise_email(email)
    if not EMAIL.match(email):
        raise AccountError(f"'{email}' is not an email address")
    if role not in ROLES:
        raise AccountError(f"unknown role '{role}'; use one of {', '.join(ROLES)}")
    if not name.strip():
        raise AccountError("the user needs a name")
    try:
        check_text(name)
    except TextRejected as exc:
        raise AccountError(f"name: {exc}") from exc
    try:
        check_password(password, email=email, name=name)
    except PasswordRejected as exc:
        raise AccountError(str(exc)) from exc
    if db.scalar(select(User).where(User.email == email)) is not None:
        raise EmailUnavailable(EMAIL_UNAVAILABLE)
    user = User(id=new_id(), organisation_id=organisation.id, email=email, name=name.strip(),
                role=role, password_hash=hash_password(password), active=True)
    db.add(user)
    db.flush()
    return user
