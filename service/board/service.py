"""The campaign board: per target language, who is invited, who opened the link, who has
recorded, what is approved, and which languages still have nobody."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.campaigns.repository import all_translations
from service.campaigns.service import language_label
from service.leaders.repository import invites_for_campaign
from service.leaders.service import invite_state
from service.models import Campaign, Clip, utcnow


@dataclass
class LeaderRow:
    leader_id: str | None
    name: str
    role: str
    invite_id: str | None
    invite_state: str
    """active | opened | expired | revoked | none (a staff upload without an invite)"""
    opened_at: datetime | None
    clips: int = 0
    approved: int = 0
    rejected: int = 0
    latest_clip_status: str | None = None


@dataclass
class LanguageRow:
    language: str
    label: str
    translations_total: int
    translations_approved: int
    leaders: list[LeaderRow] = field(default_factory=list)

    @property
    def invited(self) -> int:
        return sum(1 for r in self.leaders if r.invite_state in ("active", "opened"))

    @property
    def opened(self) -> int:
        return sum(1 for r in self.leaders if r.opened_at is not None)

    @property
    def recorded(self) -> int:
        return sum(1 for r in self.leaders if r.clips > 0)

    @property
    def approved(self) -> int:
        return sum(r.approved for r in self.leaders)

    @property
    def nobody(self) -> bool:
        """True when no usable invite and no clip exists for this language."""
        return self.invited == 0 and self.recorded == 0

    @property
    def translation_ready(self) -> bool:
        return self.translations_total > 0 and (
            self.translations_approved == self.translations_total
        )


@dataclass
class Board:
    campaign_id: str
    languages: list[LanguageRow]

    @property
    def uncovered(self) -> list[str]:
        """Target languages with nobody invited and nothing recorded."""
        return [row.language for row in self.languages if row.nobody]


def campaign_board(db: Session, campaign: Campaign) -> Board:
    now = utcnow()
    total = len(campaign.sentences)
    approved_by_language: dict[str, int] = defaultdict(int)
    for translation in all_translations(db, campaign.id):
        if translation.status == "approved":
            approved_by_language[translation.language] += 1
    rows = {
        lang.language: LanguageRow(
            language=lang.language,
            label=language_label(lang.language, lang.language_name),
            translations_total=total,
            translations_approved=approved_by_language[lang.language],
        )
        for lang in campaign.languages
    }
    by_leader: dict[tuple[str, str | None], LeaderRow] = {}
    for invite in invites_for_campaign(db, campaign.id):
        leader = invite.leader
        row = LeaderRow(
            leader_id=leader.id, name=leader.name, role=leader.role, invite_id=invite.id,
            invite_state=invite_state(invite, now), opened_at=invite.opened_at,
        )
        by_leader[(leader.language, leader.id)] = row
        _language_row(rows, leader.language, total).leaders.append(row)

    clips = db.scalars(
        select(Clip).where(Clip.campaign_id == campaign.id).order_by(Clip.created_at)
    ).all()
    for clip in clips:
        key = (clip.language, clip.leader_id)
        found = by_leader.get(key)
        if found is None:
            found = LeaderRow(
                leader_id=clip.leader_id,
                name=clip.speaker_name or (clip.leader.name if clip.leader else "Staff upload"),
                role=clip.speaker_role, invite_id=None, invite_state="none", opened_at=None,
            )
            by_leader[key] = found
            _language_row(rows, clip.language, total).leaders.append(found)
        found.clips += 1
        found.approved += clip.status == "approved"
        found.rejected += clip.status == "rejected"
        found.latest_clip_status = clip.status
    for language_row in rows.values():
        language_row.leaders.sort(key=lambda r: r.name.lower())
    return Board(campaign_id=campaign.id, languages=sorted(rows.values(),
                                                           key=lambda r: r.label.lower()))


def _language_row(rows: dict[str, LanguageRow], language: str, total: int) -> LanguageRow:
    """The row for ``language``; one is added if a leader or clip is outside the targets."""
    row = rows.get(language)
    if row is None:
        row = rows[language] = LanguageRow(language=language, label=language_label(language),
                                           translations_total=total, translations_approved=0)
    return row
