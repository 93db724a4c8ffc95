"""Stage ``clip.probe``: is the uploaded original usable media within the limits?

Fetches the original (never modified) to a work folder, probes it through the safe ffmpeg
wrapper and judges it with the policy from settings. The clip ends ``ready`` (with its probe
summary and duration stored) or ``failed`` with a stable error code the leader sees
translated. Idempotent and claimed: a clip already past probing is left alone; a clip being
probed by a live worker is looked at again later (:class:`Busy`); a crash mid-way leaves it
``probing`` with a claim that lapses, and ``resume_due_work`` sends it again.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import or_, update

from service.db import unit_of_work
from service.models import Clip, utcnow
from service.settings import Settings
from workers.media.errors import MediaError
from workers.media.probe import MediaInfo, Policy, Problem, probe, validate
from workers.stages.common import (
    Busy,
    Heartbeat,
    lease_cutoff,
    scratch,
    seconds_until_lapse,
    store_for,
)

log = logging.getLogger(__name__)

DUE = ("received", "probing")


def policy_for(settings: Settings) -> Policy:
    """The media policy from settings (size, length and picture limits)."""
    return Policy(max_duration=float(settings.max_clip_seconds),
                  max_bytes=settings.max_upload_bytes, min_lines=settings.min_video_height)


def probe_record(info: MediaInfo, problems: list[Problem]) -> dict[str, Any]:
    """What is stored on the clip: the summary and every problem (code, message, params)."""
    record = info.summary()
    record["problems"] = [
        {"code": p.code, "message": p.message, "params": p.params} for p in problems
    ]
    return record


def claim(settings: Settings, clip_id: str) -> bool | Busy:
    """Take the clip's probe: ``True`` (ours), ``False`` (nothing to do) or :class:`Busy`.

    One conditional UPDATE: a ``received`` clip, or a ``probing`` one whose claim has lapsed
    (its worker died). Two deliveries of ``clip.probe`` (a start-up resume beside the message
    sent at upload) therefore never probe one clip at once.
    """
    cutoff = lease_cutoff(settings)
    with unit_of_work(settings) as session:
        result = session.execute(
            update(Clip).where(
                Clip.id == clip_id,
                or_(Clip.status == "received",
                    (Clip.status == "probing") & or_(Clip.probe_claimed_at.is_(None),
                                                      Clip.probe_claimed_at < cutoff)),
            ).values(status="probing", probe_claimed_at=utcnow())
            .execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) == 1:
            return True
        clip = session.get(Clip, clip_id)
        if clip is None or clip.status != "probing":
            return False
        return Busy(seconds_until_lapse(settings, clip.probe_claimed_at))


def _beat(settings: Settings, clip_id: str) -> None:
    with unit_of_work(settings) as session:
        session.execute(update(Clip).where(Clip.id == clip_id, Clip.status == "probing")
                        .values(probe_claimed_at=utcnow())
                        .execution_options(synchronize_session=False))


def run(clip_id: str, settings: Settings) -> str | Busy | None:
    """Probe one clip; its new status, :class:`Busy`, or ``None`` (nothing to do).

    A problem with the file (not media, unsafe, damaged, out of limits) fails the clip at
    once with its code: probing it again would only find the same. Anything else (the store
    or the database unreachable) raises, and the queue retries it.
    """
    claimed = claim(settings, clip_id)
    if claimed is not True:
        return claimed if isinstance(claimed, Busy) else None
    with unit_of_work(settings) as session:
        clip = session.get(Clip, clip_id)
        if clip is None:
            return None
        original_key = clip.original_key
    policy = policy_for(settings)
    info: MediaInfo | None = None
    problems: list[Problem] = []
    error_code: str | None = None
    with Heartbeat(f"probe-{clip_id}", lambda: _beat(settings, clip_id)), \
            scratch(settings, "probe", clip_id) as folder:
        local = folder / "original"
        store_for(settings).get_file(original_key, local)
        try:
            info = probe(local, policy)
            problems = validate(info, policy)
        except MediaError as exc:
            log.info("clip %s is not usable (%s): %s", clip_id, exc.code, exc.message)
            error_code = exc.code
    if problems:
        error_code = problems[0].code
    with unit_of_work(settings) as session:
        clip = session.get(Clip, clip_id)
        if clip is None or clip.status != "probing":
            return None
        if info is not None:
            clip.probe = probe_record(info, problems)
            clip.duration = round(info.duration, 3)
        clip.error_code = error_code
        clip.status = "failed" if error_code else "ready"
        clip.probe_claimed_at = None
        return clip.status
