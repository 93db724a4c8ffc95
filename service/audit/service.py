"""``record()``: the one way a staff action enters the audit log; and reading it back.

Called by the service layer (never by templates or workers) right where the action happens,
inside the same transaction, so an action that rolls back leaves no entry and an entry
always means the action happened. Summaries are built from ids, titles and codes: never a
leader's name, an IP address or a token (the log must stay true after an erasure).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AUDIT_ACTIONS, AuditEvent, User, utcnow

SYSTEM_ACTOR = "system"
"""The actor of scheduled work (retention)."""


def record(session: Session, actor: User | None, action: str, object_type: str,
           object_id: str, summary: str = "", *, organisation_id: str | None = None,
           at: datetime | None = None) -> AuditEvent:
    """Add one audit entry (flushed with the caller's transaction)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to AUDIT_ACTIONS")
    event = AuditEvent(
        organisation_id=organisation_id or (actor.organisation_id if actor else None),
        actor_user_id=actor.id if actor else None,
        actor_email=actor.email if actor else SYSTEM_ACTOR,
        action=action, object_type=object_type, object_id=object_id or "",
        summary=summary[:2000], created_at=at or utcnow(),
    )
    session.add(event)
    session.flush()
    return event


def events(session: Session, organisation_id: str, *, action: str | None = None,
           limit: int | None = 500) -> Sequence[AuditEvent]:
    """The organisation's entries, newest first (``limit=None``: all, for the export)."""
    stmt = select(AuditEvent).where(AuditEvent.organisation_id == organisation_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    stmt = stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all()


CSV_COLUMNS = ("when_utc", "actor", "action", "object_type", "object_id", "summary")


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas (a cell starting with = + - @ runs in Excel)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(rows: Sequence[AuditEvent]) -> str:
    """The entries as CSV (UTF-8, one header row), safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in rows:
        writer.writerow([e.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"), _cell(e.actor_email),
                         e.action, e.object_type, e.object_id, _cell(e.summary)])
    return buffer.getvalue()
