"""What a compile is made of, read from the database: a read-only plan, as plain values.

Every stage reads the plan (the compile's campaign, its texts and its clips) and nothing else
of the database's shape; this loader never writes (the row changes are the state machine's,
:mod:`service.renders.state`). Each clip's text is decided by the clips domain's one rule
(:func:`service.clips.text.clip_text`): staff's overrides, the approved translations, staff's
manual timing. :func:`engine_campaign` turns a plan into the engine's plain input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clips.repository import campaign_text, text_of
from service.clips.text import CampaignText, ClipText
from service.consent import service as consent
from service.models import Campaign as CampaignRow
from service.models import CampaignLanguage, Clip, Compile, CompileClip, Leader
from service.renders.status import ClipStatus
from workers.media.campaign import Campaign, Card, ClipSpec
from workers.media.captions import SubtitleEntry
from workers.media.errors import MediaError
from workers.media.segments import resolve_formats
from workers.media.style import Brand

CARD_SECONDS = 3.0


class CompileRefused(MediaError):
    """The compile cannot start: no clips, missing text or translation, bad settings."""

    code = "compile_refused"


@dataclass(frozen=True)
class ClipPlan:
    """One clip of the compile: where its original is, who speaks, what it shows."""

    clip_id: str
    index: int
    original_key: str
    original_filename: str
    language: str
    language_name: str | None
    speaker: str
    role: str
    sentences: tuple[str, ...]
    translation: tuple[str, ...] | None
    trim: tuple[float, float] | None
    cues: tuple[SubtitleEntry, ...] | None
    channels: tuple[str, ...] = ()
    """The channels the person agreed to (which outputs the clip may appear in)."""


@dataclass(frozen=True)
class ClipLeftOut:
    """A clip of the compile that cannot be in it, and why (a stable code and a message).

    ``skipped`` for consent (withdrawn, missing, or no channel of the compile agreed to),
    ``failed`` for a clip that has no text."""

    clip_id: str
    code: str
    message: str
    status: ClipStatus = ClipStatus.SKIPPED


@dataclass(frozen=True)
class CompilePlan:
    """Everything the compile reads from the database."""

    compile_id: str
    title: str
    language: str
    translation_language: str
    intro_text: str | None
    outro_text: str | None
    logo_key: str | None
    brand: Brand
    formats: tuple[str, ...]
    clips: tuple[ClipPlan, ...]
    left_out: tuple[ClipLeftOut, ...] = ()
    """Clips that cannot be compiled: consent withdrawn or not covering any output of the
    compile, or no text (with a row; without one too when the plan includes unlisted clips)."""
    unlisted: tuple[str, ...] = ()
    """Eligible clips that have no row yet (approved after the compile was asked for)."""

    def clip(self, clip_id: str) -> ClipPlan | None:
        return next((c for c in self.clips if c.clip_id == clip_id), None)


def _trim(start: float | None, end: float | None, duration: float | None
          ) -> tuple[float, float] | None:
    if start is None and end is None:
        return None
    a = start or 0.0
    b = end if end is not None else (duration or 0.0)
    return (float(a), float(b)) if b > a else None


def load_plan(session: Session, compile_id: str, *, clip_ids: Sequence[str] | None = None,
              include_unlisted: bool = False) -> CompilePlan:
    """Read the compile's plan: its clips with a row, in a stable order (``clip_ids``: only
    these clips, for a stage working on one; ``include_unlisted``: eligible clips without a
    row too, when the compile starts and will add their rows). Clips that cannot be compiled
    are in ``left_out``. Raises :class:`CompileRefused` when nothing can be compiled."""
    row = session.get(Compile, compile_id)
    if row is None:
        raise CompileRefused("the compile no longer exists", code="not_found")
    campaign = session.get(CampaignRow, row.campaign_id)
    if campaign is None:
        raise CompileRefused("the campaign no longer exists", code="not_found")
    texts = campaign_text(session, campaign)
    if not texts.script:
        raise CompileRefused(f"campaign '{campaign.title}' has no sentences", code="no_sentences")
    names = _language_names(session, campaign)
    listed = {cc.clip_id: cc.status for cc in session.scalars(
        select(CompileClip).where(CompileClip.compile_id == row.id))}
    formats = resolve_formats(row.formats or campaign.formats)
    selection = consent.select_for_compile(session, campaign.id, formats)
    eligible = selection.clips
    eligible_ids = {c.id for c in eligible}
    left_out = [ClipLeftOut(clip_id, selection.excluded.get(clip_id, "no_consent"),
                            _consent_message(selection.excluded.get(clip_id, "no_consent")))
                for clip_id, status in listed.items()
                if clip_id not in eligible_ids and status != ClipStatus.SKIPPED]
    if include_unlisted:  # approved but in no output: listed on the compile, never rendered
        left_out += [ClipLeftOut(clip_id, code, _consent_message(code))
                     for clip_id, code in selection.excluded.items()
                     if clip_id not in listed and code == NOT_AGREED]
    plans: list[ClipPlan] = []
    planned = 0
    for clip in eligible:
        if clip.id not in listed and not include_unlisted:
            continue
        shown = text_of(clip, texts)
        if shown.translation_missing:
            raise CompileRefused(
                f"the campaign's translation line is in '{texts.translation_language}', but "
                "not every sentence has an approved translation in it",
                code="translation_missing")
        if not shown.native:
            left_out.append(ClipLeftOut(
                clip.id, "missing_text",
                f"clip {clip.original_filename or clip.id} ({clip.language}) has no text and "
                "no approved translation in its language", ClipStatus.FAILED))
            continue
        planned += 1  # the clip's index: the same whichever subset a stage asks for
        if clip_ids is not None and clip.id not in clip_ids:
            continue
        plans.append(_clip_plan(session, clip, shown, names, planned,
                                selection.channels.get(clip.id, ())))
    if not planned and not any(o.code == "missing_text" for o in left_out):
        raise CompileRefused(
            "no clip can be compiled: none is approved with a consent record", code="no_clips")
    return _plan(row.id, campaign, texts, formats=formats,
                 clips=tuple(plans), left_out=tuple(left_out),
                 unlisted=tuple(c.id for c in eligible if c.id not in listed))


NOT_AGREED = "channel_not_agreed"
"""A clip whose person agreed to no channel that an output of the compile is made for."""


def _consent_message(code: str) -> str:
    if code == NOT_AGREED:
        return "the person did not agree to any channel this compile's outputs are made for"
    return "consent was withdrawn or is missing"


def _clip_plan(session: Session, clip: Clip, shown: ClipText, names: dict[str, str | None],
               index: int, channels: tuple[str, ...] = ()) -> ClipPlan:
    assert shown.native
    leader = session.get(Leader, clip.leader_id) if clip.leader_id else None
    return ClipPlan(
        clip_id=clip.id, index=index, original_key=clip.original_key,
        original_filename=clip.original_filename, language=clip.language,
        language_name=names.get(clip.language.lower()),
        speaker=clip.speaker_name or (leader.name if leader else "") or "",
        role=clip.speaker_role or (leader.role if leader else "") or "",
        sentences=shown.native, translation=shown.translation,
        trim=_trim(clip.trim_start, clip.trim_end, clip.duration), cues=shown.cues,
        channels=channels)


def _language_names(session: Session, campaign: CampaignRow) -> dict[str, str | None]:
    return {cl.language.lower(): cl.language_name for cl in session.scalars(
        select(CampaignLanguage).where(CampaignLanguage.campaign_id == campaign.id))}


def _plan(compile_id: str, campaign: CampaignRow, texts: CampaignText, *,
          formats: Sequence[str] | None, clips: tuple[ClipPlan, ...],
          left_out: tuple[ClipLeftOut, ...] = (), unlisted: tuple[str, ...] = ()
          ) -> CompilePlan:
    return CompilePlan(
        compile_id=compile_id, title=campaign.title, language=campaign.language,
        translation_language=texts.translation_language,
        intro_text=campaign.intro_text or None, outro_text=campaign.outro_text or None,
        logo_key=campaign.logo_key,
        brand=Brand(background=campaign.brand_background, text=campaign.brand_text,
                    accent=campaign.brand_accent),
        formats=resolve_formats(formats), clips=clips, left_out=left_out, unlisted=unlisted)


def clip_preview_plan(session: Session, campaign: CampaignRow, clip: Clip) -> CompilePlan:
    """The plan of a compile of this one clip as it stands (the review page's preview),
    whatever its review status; raises :class:`CompileRefused` when it has no text yet."""
    texts = campaign_text(session, campaign)
    shown = text_of(clip, texts)
    if not shown.native:
        raise CompileRefused("the clip has no text yet, and there is no approved translation "
                             "of the message in its language", code="missing_text")
    return _plan("", campaign, texts, formats=None,
                 clips=(_clip_plan(session, clip, shown, _language_names(session, campaign),
                                   1),))


def suffix_of(name: str) -> str:
    """A safe file suffix for a stored object's local copy (``.bin`` if it has none)."""
    suffix = Path(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".bin"


def original_path(folder: Path, clip: ClipPlan) -> Path:
    """Where a clip's original is (or would be) fetched to inside a work folder."""
    return folder / f"{clip.clip_id}{suffix_of(clip.original_filename)}"


def engine_campaign(plan: CompilePlan, folder: Path, logo: Path | None = None,
                    clips: Sequence[ClipPlan] | None = None) -> Campaign:
    """The engine's input for the plan (``clips``: a subset, keeping their indexes).

    Each clip's file is :func:`original_path` in ``folder``: fetched there when the clip must
    be analysed or rendered, absent when its prepared data and segments are enough.
    """
    specs = tuple(ClipSpec(
        index=clip.index, file=original_path(folder, clip), language=clip.language,
        language_name=clip.language_name, speaker=clip.speaker, role=clip.role,
        sentences=clip.sentences, translation=clip.translation, trim=clip.trim,
        subtitles=clip.cues) for clip in (plan.clips if clips is None else clips))

    def card(text: str | None) -> Card | None:
        return Card(text=text, duration=CARD_SECONDS, logo=logo) if text else None

    return Campaign(title=plan.title, language=plan.language,
                    translation_language=plan.translation_language,
                    intro=card(plan.intro_text), outro=card(plan.outro_text), brand=plan.brand,
                    formats=plan.formats, clips=specs)
