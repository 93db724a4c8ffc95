"""Stage ``clip.probe``: is the uploaded original usable media within the limits?

Fetches the original (never modified) to a work folder, probes it through the safe ffmpeg
wrapper and judges it with the policy from settings. The clip ends ``ready`` (with its probe
summary and duration stored) or ``failed`` with a stable error code the leader sees
translated. Idempotent: a clip already past probing is left alone; a crash mid-way leaves it
``probing`` and ``resume_due_work`` sends it again.
"""

from __future__ import annotations

import logging
from typing import Any

from service.db import unit_of_work
from service.models import Clip
from service.settings import Settings
from workers.media.errors import MediaError
from workers.media.probe import MediaInfo, Policy, Problem, probe, validate
from workers.stages.common import scratch, store_for

log = logging.getLogger(__name__)

DUE = ("received", "probing")


def policy_for(settings: Settings) -> Policy:
    """The media policy from settings (size and length limits)."""
    return Policy(max_duration=float(settings.max_clip_seconds),
                  max_bytes=settings.max_upload_bytes)


def probe_record(info: MediaInfo, problems: list[Problem]) -> dict[str, Any]:
    """What is stored on the clip: the summary and every problem (code, message, params)."""
    record = info.summary()
    record["problems"] = [
        {"code": p.code, "message": p.message, "params": p.params} for p in problems
    ]
    return record


def run(clip_id: str, settings: Settings) -> str | None:
    """Probe one clip; return its new status (``None`` when there was nothing to do)."""
    with unit_of_work(settings) as session:
        clip = session.get(Clip, clip_id)
        if clip is None or clip.status not in DUE:
            return None
        clip.status = "probing"
        original_key = clip.original_key
    policy = policy_for(settings)
    info: MediaInfo | None = None
    problems: list[Problem] = []
    error_code: str | None = None
    with scratch(settings, "probe", clip_id) as folder:
        local = folder / "original"
        store_for(settings).get_file(original_key, local)
        try:
            info = probe(local, policy)
            problems = validate(info, policy)
        except MediaError as exc:
            log.info("clip %s is not usable: %s", clip_id, exc)
            error_code = exc.code
    if problems:
        error_code = problems[0].code
    with unit_of_work(settings) as session:
        clip = session.get(Clip, clip_id)
        if clip is None or clip.status not in DUE:
            return None
        if info is not None:
            clip.probe = probe_record(info, problems)
            clip.duration = round(info.duration, 3)
        clip.error_code = error_code
        clip.status = "failed" if error_code else "ready"
        return clip.status
