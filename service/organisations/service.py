"""Organisations and their staff accounts (used by ``chorus user add`` and the demo)."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.service import normalise_email
from service.models import ROLES, Organisation, User, new_id
from service.security import hash_password

MIN_PASSWORD_LENGTH = 10
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(Exception):
    """A staff account cannot be created as asked; the message says why."""


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
    """A new staff account; refuses a taken email, an unknown role or a short password."""
    email = normalise_email(email)
    if not EMAIL.match(email):
        raise AccountError(f"'{email}' is not an email address")
    if role not in ROLES:
        raise AccountError(f"unknown role '{role}'; use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if not name.strip():
        raise AccountError("the user needs a name")
    if db.scalar(select(User).where(User.email == email)) is not None:
        raise AccountError(f"there is already a user with the email {email}")
    user = User(id=new_id(), organisation_id=organisation.id, email=email, name=name.strip(),
                role=role, password_hash=hash_password(password), active=True)
    db.add(user)
    db.flush()
    return user
