"""Rules for compiles: who may start one, for which formats, and what it will include.

Starting a compile only writes rows (the ``Compile`` and one ``CompileClip`` per clip that may
be compiled right now, for the progress display) and asks for ``compile.run`` after commit.
The compile stage checks consent again when it starts: this list is a forecast, not a promise.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import jobs
from service.audit.service import record
from service.clips.repository import compilable_clips
from service.models import Campaign, Clip, Compile, CompileClip, User
from service.renders.status import ClipStatus, CompileStatus
from workers.media.style import FORMATS


class RenderError(Exception):
    def __init__(self, message: str, code: str, status_code: int = 400):
        super().__init__(message)
        self.message, self.code, self.status_code = message, code, status_code


def start_compile(session: Session, campaign: Campaign, user: User,
                  formats: Sequence[str]) -> Compile:
    """Queue a compile of the campaign's approved, consented clips in ``formats``."""
    chosen = list(dict.fromkeys(f for f in formats if f))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise RenderError(f"choose formats among {', '.join(FORMATS)}", "bad_format")
    clips = compilable_clips(session, campaign.id)
    if not clips:
        raise RenderError("no clip is approved with a consent record yet: approve at least "
                          "one clip first", "no_clips", 409)
    row = Compile(campaign_id=campaign.id, formats=chosen, status=CompileStatus.QUEUED,
                  progress=0.0,
                  requested_by=user.id, outputs=[])
    session.add(row)
    session.flush()
    for clip in clips:
        session.add(CompileClip(compile_id=row.id, clip_id=clip.id, status=ClipStatus.QUEUED))
    session.flush()
    record(session, user, "compile.create", "compile", row.id,
           f"compile of campaign {campaign.id[:8]} in {', '.join(chosen)}, {len(clips)} clip(s)",
           organisation_id=campaign.organisation_id)
    jobs.enqueue("compile.run", session=session, compile_id=row.id)
    return row


def get_compile(session: Session, organisation_id: str, compile_id: str) -> Compile | None:
    stmt = (
        select(Compile)
        .join(Campaign, Campaign.id == Compile.campaign_id)
        .where(Compile.id == compile_id, Campaign.organisation_id == organisation_id)
    )
    return session.scalar(stmt)


def campaign_compiles(session: Session, campaign_id: str) -> Sequence[Compile]:
    return session.scalars(
        select(Compile).where(Compile.campaign_id == campaign_id)
        .order_by(Compile.created_at.desc())
    ).all()


def compile_clips(session: Session, compile_id: str) -> list[tuple[CompileClip, Clip]]:
    rows = session.execute(
        select(CompileClip, Clip).join(Clip, Clip.id == CompileClip.clip_id)
        .where(CompileClip.compile_id == compile_id)
        .order_by(Clip.language, Clip.created_at)
    ).all()
    return [(cc, clip) for cc, clip in rows]
