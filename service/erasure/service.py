"""Erasure: a clip, a person (leader) or a campaign, removed from every copy Chorus made.

What is removed, for each erased clip:

- the original in the object store (local disk or S3), and every object the workers recorded
  in :class:`ObjectLineage` as made from it: its segments, and every output of every compile
  that contained it (videos, per-language cuts, posters, subtitles, the report);
- what this machine's data folder holds of it: the review previews, work folders, the
  engine's cached analysis (found by the original's SHA-256) and cached segments, and the
  hash index entry; other workers' caches are swept by ``chorus retention`` running on each
  worker (orphaned cache entries and lineage, see ``service.retention``);
- its rows: the clip, its compile rows, its tus upload and, for a person, the leader, their
  invites and withdrawal keys.

Every compile that contained the clip is marked withdrawn (its outputs no longer offered,
its error text replaced, an unfinished one failed so no worker carries on), and a finished
one is compiled again without the clip when the campaign still has clips to compile.

Kept, without the person's data: each consent row (links to the person, clip, invite and
campaign cut; note emptied; ``subject_ref`` a keyed pseudonym; ``erased_at`` set) as the
evidence of what was agreed and withdrawn (UK GDPR art. 7(1), 17(3)(e)), an
:class:`ErasureReport` listing every object removed (keys are built from ids), and an audit
entry. Nothing here can reach copies outside Chorus (posted on social platforms, forwarded
in messages, downloaded by staff): SECURITY.md says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from service.audit.service import record
from service.models import (
    Campaign,
    Clip,
    Compile,
    CompileClip,
    Consent,
    ErasureReport,
    Invite,
    Leader,
    ObjectLineage,
    TusUpload,
    User,
    utcnow,
)
from service.settings import Settings
from service.storage import ObjectStore

log = logging.getLogger(__name__)

UNFINISHED = ("queued", "running", "joining")


def subject_ref(settings: Settings, leader_id: str) -> str:
    """A keyed pseudonym of a leader: the same person always gives the same value.

    HMAC-SHA256 with the deployment's secret key, so the value cannot be reversed or
    recomputed without the key (a plain hash of a UUID could be matched by anyone holding a
    copy of the old id).
    """
    return hmac.new(settings.secret_key.encode(), f"leader:{leader_id}".encode(),
                    hashlib.sha256).hexdigest()


@dataclass
class Found:
    """Everything an erasure of some clips must touch, gathered before anything is removed."""

    clip_ids: list[str]
    shas: set[str] = field(default_factory=set)
    object_keys: set[str] = field(default_factory=set)
    segment_keys: set[str] = field(default_factory=set)
    compile_ids: set[str] = field(default_factory=set)
    compile_clip_ids: set[str] = field(default_factory=set)


def find(session: Session, clips: Sequence[Clip]) -> Found:
    """Gather every object, compile and cache key of ``clips`` (through the lineage)."""
    ids = [c.id for c in clips]
    found = Found(clip_ids=ids)
    if not ids:
        return found
    found.shas = {c.original_sha256 for c in clips if c.original_sha256}
    found.object_keys = {c.original_key for c in clips if c.original_key}
    for key, compile_id in session.execute(
            select(ObjectLineage.object_key, ObjectLineage.compile_id)
            .where(ObjectLineage.clip_id.in_(ids))):
        found.object_keys.add(key)
        if compile_id:
            found.compile_ids.add(compile_id)
    for cc_id, compile_id, segments in session.execute(
            select(CompileClip.id, CompileClip.compile_id, CompileClip.segments)
            .where(CompileClip.clip_id.in_(ids))):
        found.compile_clip_ids.add(cc_id)
        found.compile_ids.add(compile_id)
        found.segment_keys.update(segments or [])
    for compile_row in session.scalars(select(Compile).where(Compile.id.in_(found.compile_ids))):
        found.object_keys.update(o["key"] for o in (compile_row.outputs or []) if o.get("key"))
    if found.compile_ids:  # outputs recorded for those compiles, whichever clips they name
        found.object_keys.update(session.scalars(
            select(ObjectLineage.object_key).where(
                ObjectLineage.compile_id.in_(found.compile_ids),
                ObjectLineage.kind == "output")))
    found.segment_keys.update(k[len("segments/"):-len(".mov")] for k in found.object_keys
                              if k.startswith("segments/") and k.endswith(".mov"))
    return found


def remove_objects(store: ObjectStore, keys: Iterable[str]) -> list[str]:
    """Delete ``keys`` from the store; the ones that were there (sorted)."""
    removed = []
    for key in sorted(set(keys)):
        try:
            existed = store.exists(key)
            store.delete(key)
        except Exception:  # an unsafe or foreign key in a row must not stop the erasure
            log.exception("could not delete object %s", key)
            continue
        if existed:
            removed.append(key)
    return removed


#: The engine keeps a clip's sound beside its analysis and beside each segment (``.aac``;
#: ``.wav`` in caches made before the sound was encoded once per clip).
SOUND_SUFFIXES = (".aac", ".wav")


def remove_with_sound(path: Path) -> int:
    """Remove a cache file and the sound kept beside it; how many files were removed."""
    return sum(remove_path(path.with_suffix(s)) for s in SOUND_SUFFIXES) + remove_path(path)


def remove_path(path: Path) -> int:
    """Remove a file or a folder; how many files were removed (failures are logged)."""
    try:
        if path.is_dir():
            n = sum(1 for p in path.rglob("*") if p.is_file())
            shutil.rmtree(path, ignore_errors=True)
            return n
        if path.exists():
            path.unlink()
            return 1
    except OSError:
        log.exception("could not remove %s", path)
    return 0


def purge_local(settings: Settings, *, shas: set[str], segment_keys: set[str],
                clip_ids: Iterable[str] = (), compile_ids: Iterable[str] = (),
                compile_clip_ids: Iterable[str] = ()) -> int:
    """Remove what this machine's data folder holds of some clips; how many files.

    The engine's cache lives in ``<data>/cache/segments``: ``analysis/<key>.json|.aac`` (the
    JSON names the original's ``source_sha256``), ``segments/<key>.mov|.aac`` and ``hashes.json``
    (file path → SHA-256). Previews are in ``<data>/work/review/<id>``, the stages' work folders in
    ``<data>/work/<process>/{clips,compiles}/<id>``.
    """
    data = Path(settings.data_dir)
    cache = data / "cache" / "segments"
    count = 0
    analysis = cache / "analysis"
    if shas and analysis.is_dir():
        for meta in analysis.glob("*.json"):
            try:
                sha = json.loads(meta.read_text("utf-8")).get("source_sha256")
            except (OSError, ValueError, AttributeError):
                continue
            if sha in shas:
                count += remove_with_sound(meta)
    for key in segment_keys:
        count += remove_with_sound(cache / "segments" / f"{key}.mov")
    index = cache / "hashes.json"
    if shas and index.exists():
        try:
            entries = json.loads(index.read_text("utf-8"))
            kept = {p: e for p, e in entries.items()
                    if not (isinstance(e, dict) and e.get("sha256") in shas)}
            if len(kept) != len(entries):
                index.write_text(json.dumps(kept), "utf-8")
                count += len(entries) - len(kept)
        except (OSError, ValueError, AttributeError):
            count += remove_path(index)  # unreadable: it is only a speed-up
    work = data / "work"
    for kind, ids in (("review", clip_ids), ("clips", compile_clip_ids),
                      ("compiles", compile_ids)):
        for one in ids:
            # previews sit in work/review/<id>; the stages' folders are per process
            # (work/<host>-<pid>-<start>/<kind>/<id>, see workers.media.workdirs)
            for folder in (work / kind / one, *work.glob(f"*/{kind}/{one}")):
                count += remove_path(folder)
    return count


def withdraw_compiles(session: Session, compile_ids: Iterable[str], reason: str) -> list[str]:
    """Mark compiles withdrawn: outputs no longer offered, unfinished ones stopped."""
    done = []
    for row in session.scalars(select(Compile).where(Compile.id.in_(set(compile_ids)))):
        if row.status in UNFINISHED:
            row.status, row.error_code = "failed", reason
            row.finished_at, row.heartbeat_at = utcnow(), None
        row.withdrawn_at = row.withdrawn_at or utcnow()
        row.withdrawn_reason = reason
        row.outputs = []
        row.error = ("withdrawn: a clip in this compile was erased" if reason == "erased"
                     else "withdrawn: a person in this compile withdrew consent")
        done.append(row.id)
    session.flush()
    return sorted(done)


def _pseudonymise_consents(session: Session, settings: Settings, clips: Sequence[Clip],
                           leader_ids: set[str], invite_ids: set[str],
                           campaign_ids: set[str]) -> None:
    """Keep every consent row of what is erased, with the links to the person cut."""
    conds = [Consent.clip_id.in_([c.id for c in clips])]
    if leader_ids:
        conds.append(Consent.leader_id.in_(leader_ids))
    if invite_ids:
        conds.append(Consent.invite_id.in_(invite_ids))
    if campaign_ids:
        conds.append(Consent.campaign_id.in_(campaign_ids))
    org_of = {c.id: c.organisation_id for c in session.scalars(
        select(Campaign).where(Campaign.id.in_({c.campaign_id for c in clips} | campaign_ids)))}
    leader_of_clip = {c.id: c.leader_id for c in clips}
    now = utcnow()
    for row in session.scalars(select(Consent).where(or_(*conds))):
        leader_id = row.leader_id or (leader_of_clip.get(row.clip_id or "") if row.clip_id
                                      else None)
        if row.organisation_id is None and row.campaign_id:
            row.organisation_id = org_of.get(row.campaign_id)
        if leader_id and row.subject_ref is None:
            row.subject_ref = subject_ref(settings, leader_id)
        row.clip_id = row.leader_id = row.invite_id = None
        if row.campaign_id in campaign_ids:
            row.campaign_id = None
        row.note = ""
        row.erased_at = row.erased_at or now
    session.flush()


def erase_clips(session: Session, settings: Settings, store: ObjectStore, clips: Sequence[Clip], *,
           actor: User | None, scope: str, organisation_id: str,
           leader_ids: set[str] | None = None, invite_ids: set[str] | None = None,
           campaign_ids: set[str] | None = None, recompile: bool = True) -> ErasureReport:
    """Erase ``clips`` (and what ``leader_ids``/``invite_ids``/``campaign_ids`` add)."""
    leader_ids, invite_ids, campaign_ids = leader_ids or set(), invite_ids or set(), \
        campaign_ids or set()
    found = find(session, clips)
    upload_conds = [TusUpload.object_key.in_(found.object_keys)]
    if invite_ids:
        upload_conds.append(TusUpload.invite_id.in_(invite_ids))
    if campaign_ids:
        upload_conds.append(TusUpload.campaign_id.in_(campaign_ids))
    uploads = list(session.scalars(select(TusUpload).where(or_(*upload_conds))))
    refs = sorted({subject_ref(settings, lid) for lid in leader_ids}
                  | {subject_ref(settings, c.leader_id) for c in clips if c.leader_id})
    affected_campaigns = {c.campaign_id for c in clips} - set(campaign_ids)
    finished_before = {row.id: (row.campaign_id, list(row.formats or []))
                       for row in session.scalars(select(Compile).where(
                           Compile.id.in_(found.compile_ids), Compile.status == "done"))}
    withdrawn = withdraw_compiles(session, found.compile_ids, "erased")
    _pseudonymise_consents(session, settings, clips, leader_ids, invite_ids, campaign_ids)
    removed = remove_objects(store, found.object_keys)
    local = purge_local(settings, shas=found.shas, segment_keys=found.segment_keys,
                        clip_ids=found.clip_ids, compile_ids=found.compile_ids,
                        compile_clip_ids=found.compile_clip_ids)
    for upload in uploads:
        local += remove_path(Path(upload.tmp_path))
        session.delete(upload)
    if found.object_keys:
        session.execute(delete(ObjectLineage).where(
            ObjectLineage.object_key.in_(found.object_keys)))
    session.execute(delete(ObjectLineage).where(ObjectLineage.clip_id.in_(found.clip_ids)))
    for clip in clips:
        session.delete(clip)
    session.flush()
    report = ErasureReport(
        organisation_id=organisation_id, requested_by_user_id=actor.id if actor else None,
        scope=scope, subject_ref=refs[0] if len(refs) == 1 else None,
        clip_ids=found.clip_ids, objects_removed=removed, local_files_removed=local,
        compiles_withdrawn=withdrawn,
        details={"subject_refs": refs, "uploads_removed": len(uploads)},
    )
    session.add(report)
    session.flush()
    if recompile:
        report.details = {**report.details,
                          "recompiles": _recompile(session, actor, finished_before,
                                                   affected_campaigns)}
    return report


def _recompile(session: Session, actor: User | None, finished: dict[str, tuple[str, list[str]]],
               campaigns: set[str]) -> list[str]:
    """Queue one new compile per campaign whose finished compile was withdrawn."""
    if actor is None:
        return []
    from service.renders.service import RenderError, start_compile

    started = []
    seen: set[str] = set()
    for campaign_id, formats in finished.values():
        if campaign_id in seen or campaign_id not in campaigns:
            continue
        seen.add(campaign_id)
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            continue
        try:
            started.append(start_compile(session, campaign, actor, formats).id)
        except RenderError:  # nothing left to compile: the withdrawn compile simply goes
            continue
    return started


def erase_clip(session: Session, settings: Settings, store: ObjectStore, clip: Clip,
               actor: User | None) -> ErasureReport:
    """Erase one clip and everything made from it."""
    campaign = session.get(Campaign, clip.campaign_id)
    assert campaign is not None
    report = erase_clips(session, settings, store, [clip], actor=actor, scope="clip",
                    organisation_id=campaign.organisation_id)
    record(session, actor, "clip.erase", "erasure_report", report.id,
           f"clip erased: {len(report.objects_removed)} object(s) removed, "
           f"{len(report.compiles_withdrawn)} compile(s) withdrawn",
           organisation_id=campaign.organisation_id)
    return report


def erase_leader(session: Session, settings: Settings, store: ObjectStore, leader: Leader,
                 actor: User | None) -> ErasureReport:
    """Erase a person: every clip of theirs, their invites and links, and their details."""
    invite_ids = set(session.scalars(select(Invite.id).where(Invite.leader_id == leader.id)))
    mine = [Clip.leader_id == leader.id]
    if invite_ids:
        mine.append(Clip.invite_id.in_(invite_ids))
    clips = list(session.scalars(select(Clip).where(or_(*mine))))
    report = erase_clips(session, settings, store, clips, actor=actor, scope="leader",
                    organisation_id=leader.organisation_id, leader_ids={leader.id},
                    invite_ids=invite_ids)
    report.subject_ref = subject_ref(settings, leader.id)
    organisation_id = leader.organisation_id
    session.delete(leader)  # invites, their uploads and withdrawal keys cascade
    session.flush()
    record(session, actor, "leader.erase", "erasure_report", report.id,
           f"person erased: {len(clips)} clip(s), {len(report.objects_removed)} object(s) "
           f"removed, {len(report.compiles_withdrawn)} compile(s) withdrawn",
           organisation_id=organisation_id)
    return report


def delete_campaign(session: Session, settings: Settings, store: ObjectStore,
                    campaign: Campaign, actor: User | None) -> ErasureReport:
    """Delete a campaign: erase every clip the same way, keep the consent trail, drop the rest."""
    clips = list(session.scalars(select(Clip).where(Clip.campaign_id == campaign.id)))
    invite_ids = set(session.scalars(select(Invite.id).where(Invite.campaign_id == campaign.id)))
    compile_ids = set(session.scalars(select(Compile.id).where(
        Compile.campaign_id == campaign.id)))
    report = erase_clips(session, settings, store, clips, actor=actor, scope="campaign",
                    organisation_id=campaign.organisation_id, invite_ids=invite_ids,
                    campaign_ids={campaign.id}, recompile=False)
    extra = find_compile_objects(session, compile_ids)
    if campaign.logo_key:
        extra.add(campaign.logo_key)
    report.objects_removed = sorted(set(report.objects_removed) | set(remove_objects(store,
                                                                                      extra)))
    report.local_files_removed += purge_local(settings, shas=set(), segment_keys=set(),
                                              compile_ids=compile_ids)
    session.execute(delete(ObjectLineage).where(ObjectLineage.compile_id.in_(compile_ids)))
    title, organisation_id, campaign_id = campaign.title, campaign.organisation_id, campaign.id
    session.delete(campaign)
    session.flush()
    record(session, actor, "campaign.delete", "erasure_report", report.id,
           f"campaign {campaign_id[:8]} '{title}' deleted: {len(clips)} clip(s) erased, "
           f"{len(report.objects_removed)} object(s) removed; consent records kept",
           organisation_id=organisation_id)
    return report


def find_compile_objects(session: Session, compile_ids: set[str]) -> set[str]:
    """Every output object of these compiles (even ones with no clip left)."""
    keys: set[str] = set()
    for row in session.scalars(select(Compile).where(Compile.id.in_(compile_ids))):
        keys.update(o["key"] for o in (row.outputs or []) if o.get("key"))
    if compile_ids:
        keys.update(session.scalars(select(ObjectLineage.object_key).where(
            ObjectLineage.compile_id.in_(compile_ids), ObjectLineage.kind == "output")))
    return keys
