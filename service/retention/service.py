"""The retention sweep: what is past its keeping period, and removing it.

Periods (``Settings``): an original is kept ``retention_clip_days`` after the later of its
campaign's deadline and the campaign's last compile (or after its arrival, when the campaign
has neither); a clip that was never approved (waiting, rejected, failed) is kept
``retention_unused_days`` after it arrived, and an unfinished upload as long (and no longer
than its own expiry); a clip whose consent was withdrawn ``retention_withdrawn_days`` after
the withdrawal; work folders and previews ``retention_temp_hours``.

A clip past its period is erased exactly as staff would erase it (``service.erasure``): its
original, everything made from it, the compiles it was in withdrawn, an erasure report and an
audit entry by ``system``. The sweep also removes what an erasure could not reach at the time:
lineage (and its objects) left by a worker that stored a segment for a clip erased meanwhile,
and this machine's cached analyses of originals no longer held. It is run by
``chorus retention`` (a Kubernetes CronJob) and by every ``chorus worker`` on a timer, so each
worker's own cache is swept too; ``--dry-run`` lists what would go.

``now`` is a parameter everywhere, so tests move the clock instead of waiting.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.audit.service import record
from service.erasure import service as erasure
from service.models import Campaign, Clip, Compile, Consent, ObjectLineage, TusUpload
from service.settings import Settings
from service.storage import ObjectStore
from service.uploads.service import expire_uploads

log = logging.getLogger(__name__)

NEVER_APPROVED = ("received", "probing", "ready", "rejected", "failed")


@dataclass(frozen=True)
class Due:
    """One thing past its period: what it is, its id (or path) and which rule."""

    kind: str
    """``clip`` | ``upload`` | ``orphan_object`` | ``cache`` | ``temp``"""
    ref: str
    rule: str
    organisation_id: str | None = None


@dataclass
class Sweep:
    """What a sweep found (dry run) or did."""

    due: list[Due] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    objects_removed: int = 0
    files_removed: int = 0

    def lines(self) -> list[str]:
        return [f"{d.kind}\t{d.rule}\t{d.ref}" for d in self.due]


def _clip_end(session: Session, campaign: Campaign) -> datetime | None:
    """When a campaign's originals start their retention period (deadline or last compile)."""
    last = session.scalar(select(func.max(Compile.finished_at)).where(
        Compile.campaign_id == campaign.id))
    candidates = [d for d in (campaign.deadline, last) if d is not None]
    return max(candidates) if candidates else None


def due_clips(session: Session, settings: Settings, now: datetime) -> list[Due]:
    """Clips past one of their periods (each listed once, by the first rule that applies)."""
    due: dict[str, Due] = {}
    org: dict[str, str] = {}
    ends: dict[str, datetime | None] = {}
    for campaign in session.scalars(select(Campaign)):
        org[campaign.id] = campaign.organisation_id
        ends[campaign.id] = _clip_end(session, campaign)
    withdrawn_at = dict(session.execute(
        select(Clip.id, func.max(Consent.withdrawn_at))
        .join(Consent, (Consent.clip_id == Clip.id) | (
            (Consent.invite_id == Clip.invite_id) & Clip.invite_id.is_not(None)))
        .where(Consent.withdrawn_at.is_not(None)).group_by(Clip.id)).all())
    for clip in session.scalars(select(Clip).order_by(Clip.created_at)):
        oid = org.get(clip.campaign_id)
        moment = withdrawn_at.get(clip.id)
        if moment is not None and moment + timedelta(days=settings.retention_withdrawn_days) <= now:
            due[clip.id] = Due("clip", clip.id, "consent_withdrawn", oid)
            continue
        if clip.status in NEVER_APPROVED and \
                clip.created_at + timedelta(days=settings.retention_unused_days) <= now:
            due[clip.id] = Due("clip", clip.id, "never_approved", oid)
            continue
        start = ends.get(clip.campaign_id) or clip.created_at
        if max(start, clip.created_at) + timedelta(days=settings.retention_clip_days) <= now:
            due[clip.id] = Due("clip", clip.id, "campaign_ended", oid)
    return list(due.values())


def due_uploads(session: Session, settings: Settings, now: datetime) -> list[Due]:
    """Unfinished uploads older than the unused period, and finished upload rows as old.

    A finished upload's row (its metadata names the file and the speaker) is only needed to
    answer a repeated last request; the clip holds the rest.
    """
    cutoff = now - timedelta(days=settings.retention_unused_days)
    return [Due("upload", u.id, "unfinished" if u.completed_at is None else "finished_row")
            for u in session.scalars(select(TusUpload).where(TusUpload.created_at <= cutoff))]


def due_orphans(session: Session) -> list[Due]:
    """Lineage rows (and their objects) whose clip no longer exists."""
    live = select(Clip.id)
    keys = session.scalars(select(ObjectLineage.object_key).where(
        ObjectLineage.clip_id.not_in(live)).distinct()).all()
    return [Due("orphan_object", k, "clip_gone") for k in keys]


def due_cache(session: Session, settings: Settings) -> list[Due]:
    """This machine's cached analyses of originals no clip holds any more."""
    folder = Path(settings.data_dir) / "cache" / "segments" / "analysis"
    if not folder.is_dir():
        return []
    live = set(session.scalars(select(Clip.original_sha256)))
    out = []
    for meta in sorted(folder.glob("*.json")):
        try:
            sha = json.loads(meta.read_text("utf-8")).get("source_sha256")
        except (OSError, ValueError, AttributeError):
            continue
        if sha and sha not in live:
            out.append(Due("cache", str(meta), "original_gone"))
    return out


def due_temp(settings: Settings, now: datetime) -> list[Due]:
    """Work folders and files (previews, scratch, staff-upload spools) older than the period."""
    root = Path(settings.data_dir) / "work"
    if not root.is_dir():
        return []
    cutoff = (now - timedelta(hours=settings.retention_temp_hours)).timestamp()
    out = []
    for area in sorted(root.iterdir()):
        entries = sorted(area.iterdir()) if area.is_dir() else [area]
        for entry in entries:
            try:
                newest = max([entry.stat().st_mtime] + [p.stat().st_mtime
                                                        for p in entry.rglob("*")]
                             if entry.is_dir() else [entry.stat().st_mtime])
            except OSError:
                continue
            if newest < cutoff:
                out.append(Due("temp", str(entry), "older_than_temp_period"))
    return out


def plan(session: Session, settings: Settings, now: datetime) -> list[Due]:
    """Everything past its period at ``now`` (what ``--dry-run`` lists)."""
    return (due_clips(session, settings, now) + due_uploads(session, settings, now)
            + due_orphans(session) + due_cache(session, settings) + due_temp(settings, now))


def sweep(session: Session, settings: Settings, store: ObjectStore, now: datetime, *,
          dry_run: bool = False) -> Sweep:
    """Remove everything past its period (or only list it, with ``dry_run``)."""
    result = Sweep(due=plan(session, settings, now))
    if dry_run:
        return result
    by_org: dict[str, list[Clip]] = defaultdict(list)
    for item in result.due:
        if item.kind == "clip" and item.organisation_id:
            clip = session.get(Clip, item.ref)
            if clip is not None:
                by_org[item.organisation_id].append(clip)
    for organisation_id, clips in by_org.items():
        report = erasure.erase_clips(session, settings, store, clips, actor=None, scope="retention",
                                organisation_id=organisation_id, recompile=False)
        record(session, None, "retention.run", "erasure_report", report.id,
               f"retention: {len(clips)} clip(s) past their period erased, "
               f"{len(report.objects_removed)} object(s) removed, "
               f"{len(report.compiles_withdrawn)} compile(s) withdrawn",
               organisation_id=organisation_id)
        result.reports.append(report.id)
        result.objects_removed += len(report.objects_removed)
        result.files_removed += report.local_files_removed
    for item in result.due:
        if item.kind == "upload":
            upload = session.get(TusUpload, item.ref)
            if upload is not None:
                result.files_removed += erasure.remove_path(Path(upload.tmp_path))
                session.delete(upload)
        elif item.kind == "orphan_object":
            result.objects_removed += len(erasure.remove_objects(store, [item.ref]))
            session.query(ObjectLineage).filter(ObjectLineage.object_key == item.ref).delete()
            key = item.ref
            if key.startswith("segments/") and key.endswith(".mov"):
                result.files_removed += erasure.purge_local(
                    settings, shas=set(), segment_keys={key[len("segments/"):-len(".mov")]})
        elif item.kind == "cache":
            meta = Path(item.ref)
            result.files_removed += erasure.remove_with_sound(meta)
        elif item.kind == "temp":
            result.files_removed += erasure.remove_path(Path(item.ref))
    expire_uploads(session, settings, now)
    session.flush()
    log.info("retention: %d item(s) due, %d object(s) and %d file(s) removed",
             len(result.due), result.objects_removed, result.files_removed)
    return result

