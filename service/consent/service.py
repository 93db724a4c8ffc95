"""The consent rules: one answer to "may this clip be used for this purpose, on this channel?".

Every path that touches a person's recording asks :func:`may_use` (or, for many clips at once,
:func:`usable_clips`, the same rule as SQL): the review page before approving, the compile
when it selects clips and again at the join, the CLI, and the publishing seam
(:func:`output_channels`). A consent covers a clip when it was given for the clip itself, or
through the invite the clip was recorded with before the clip existed. A withdrawal anywhere
(for the clip or its invite) wins over any earlier agreement: a person who took consent back
is never used again. An erased consent row (pseudonymous evidence) covers nothing.

Channels. The leader ticks the channels they agree to (``service.invitations.CHANNELS``);
a staff upload records ``all`` unless staff chose some. Each compile output is made for some
channels (:data:`OUTPUT_CHANNELS`, the one map of outputs to channels): a clip goes into an
output only if its consent covers *every* channel the output is made for, so any output can
be published on any of its channels without asking again. That is the seam publishing uses:
publish output *O* on channel *C* only if ``C in output_channels(O)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Exists, and_, exists, or_, select
from sqlalchemy.orm import Session

from service.models import Clip, Consent

ALL_CHANNELS = "all"
"""Stored by staff uploads whose paper or e-mail consent covered every channel."""

PURPOSES = ("review", "compile", "publish")
"""review: play, preview and approve (staff look at it); compile: put it in outputs;
publish: send an output to a channel."""

OUTPUT_CHANNELS: dict[str, tuple[str, ...]] = {
    "video-landscape": ("youtube", "website"),
    "video-portrait": ("instagram", "tiktok"),
    "video-square": ("facebook", "x"),
    "cut": ("whatsapp",),
}
"""What each output kind is made for. A poster goes with its video; per-language cuts
(``cuts/{lang}-{format}.mp4``) are the community WhatsApp copies; subtitles and the report go
with the videos they belong to. Channels no output serves yet (newsletter, screens,
broadcast) are recorded and shown, and will gain outputs when publishing does."""


def output_kind(name: str) -> str | None:
    """The :data:`OUTPUT_CHANNELS` key of an output file name, ``None`` for companions.

    ``video-portrait.mp4`` and ``poster-portrait.jpg`` → ``video-portrait``;
    ``cuts/ur-square.mp4`` → ``cut``; subtitles and ``report.json`` → ``None``.
    """
    if name.startswith("cuts/"):
        return "cut"
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    for prefix in ("video-", "poster-"):
        if stem.startswith(prefix):
            kind = "video-" + stem[len(prefix):]
            return kind if kind in OUTPUT_CHANNELS else None
    return None


def output_channels(name: str) -> tuple[str, ...]:
    """The channels an output may be published on (empty: not for publishing on its own)."""
    kind = output_kind(name)
    return OUTPUT_CHANNELS.get(kind, ()) if kind else ()


def format_channels(fmt: str) -> tuple[str, ...]:
    """The channels the video in format ``fmt`` is made for."""
    return OUTPUT_CHANNELS.get(f"video-{fmt}", ())


def covers(agreed: Iterable[str], needed: Iterable[str]) -> bool:
    """Whether channels ``agreed`` include every channel in ``needed``."""
    chosen = set(agreed)
    return ALL_CHANNELS in chosen or set(needed) <= chosen


# --- which consent covers a clip (the SQL form and the one-clip form are the same rule) -------


def covering_clause() -> Exists:
    """SQL: the clip has a consent that is neither withdrawn nor erased."""
    return exists(
        select(Consent.id).where(
            Consent.withdrawn_at.is_(None),
            Consent.erased_at.is_(None),
            Consent.campaign_id == Clip.campaign_id,
            or_(
                Consent.clip_id == Clip.id,
                and_(Consent.clip_id.is_(None), Clip.invite_id.is_not(None),
                     Consent.invite_id == Clip.invite_id),
            ),
        )
    )


def withdrawn_clause() -> Exists:
    """SQL: some consent for the clip (or the invite it was recorded with) was withdrawn."""
    return exists(
        select(Consent.id).where(
            Consent.withdrawn_at.is_not(None),
            Consent.campaign_id == Clip.campaign_id,
            or_(
                Consent.clip_id == Clip.id,
                and_(Clip.invite_id.is_not(None), Consent.invite_id == Clip.invite_id),
            ),
        )
    )


def consents_of(session: Session, clip: Clip) -> Sequence[Consent]:
    """Every consent that concerns the clip (given for it or through its invite), oldest first."""
    cond = Consent.clip_id == clip.id
    if clip.invite_id:
        cond = or_(cond, and_(Consent.clip_id.is_(None), Consent.invite_id == clip.invite_id))
    return session.scalars(select(Consent).where(cond).order_by(Consent.agreed_at)).all()


@dataclass(frozen=True)
class Decision:
    """The answer for one clip: allowed or not, why (a stable code), and what was agreed."""

    allowed: bool
    code: str
    """``ok`` | ``no_consent`` | ``withdrawn`` | ``channel_not_agreed`` | ``bad_purpose``"""
    channels: tuple[str, ...] = ()
    """The channels the person agreed to (``("all",)`` for a staff record covering all)."""

    def __bool__(self) -> bool:
        return self.allowed


def decide(consents: Sequence[Consent], purpose: str,
           channels: Iterable[str] = ()) -> Decision:
    """The rule itself, on the consents of one clip (pure: tests and callers share it)."""
    if purpose not in PURPOSES:
        return Decision(False, "bad_purpose")
    if any(c.withdrawn_at is not None for c in consents):
        return Decision(False, "withdrawn")
    live = [c for c in consents if c.erased_at is None]
    if not live:
        return Decision(False, "no_consent")
    newest = max(live, key=lambda c: c.agreed_at)
    agreed = tuple(newest.channels or ())
    if not covers(agreed, channels):
        return Decision(False, "channel_not_agreed", agreed)
    return Decision(True, "ok", agreed)


def may_use(session: Session, clip: Clip, purpose: str,
            channels: Iterable[str] = ()) -> Decision:
    """May ``clip`` be used for ``purpose`` on every one of ``channels``? (see module doc)."""
    return decide(consents_of(session, clip), purpose, channels)


def usable_clips(session: Session, campaign_id: str) -> Sequence[Clip]:
    """Approved clips of the campaign whose consent holds, in a stable order (for a compile).

    Channels are not checked here: a clip whose person agreed to some channels goes into
    the outputs made for those (:func:`clips_for_output`).
    """
    stmt = (
        select(Clip)
        .where(Clip.campaign_id == campaign_id, Clip.status == "approved",
               covering_clause(), ~withdrawn_clause())
        .order_by(Clip.language, Clip.created_at, Clip.id)
    )
    return session.scalars(stmt).all()


def agreed_channels(session: Session, clip_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The channels agreed for each clip that may be compiled (absent: may not be used)."""
    out: dict[str, tuple[str, ...]] = {}
    for clip_id in dict.fromkeys(clip_ids):
        clip = session.get(Clip, clip_id)
        if clip is None:
            continue
        decision = may_use(session, clip, "compile")
        if decision:
            out[clip_id] = decision.channels
    return out


def clips_for_output(name: str, channels_by_clip: dict[str, tuple[str, ...]]) -> list[str]:
    """The clips whose consent allows them in output ``name`` (companions: every clip)."""
    needed = output_channels(name)
    return [cid for cid, agreed in channels_by_clip.items() if covers(agreed, needed)]


def clips_for_format(fmt: str, channels_by_clip: dict[str, tuple[str, ...]]) -> list[str]:
    """The clips allowed in the video (and poster) of format ``fmt``."""
    return clips_for_output(f"video-{fmt}.mp4", channels_by_clip)


def left_out(formats: Sequence[str], channels_by_clip: dict[str, tuple[str, ...]]
             ) -> dict[str, list[str]]:
    """For each clip left out of some output for want of a channel: which outputs.

    Output names are the compile's fixed names (``video-{format}.mp4``, ``cuts/*-{format}``);
    the report and the compile page say so.
    """
    out: dict[str, list[str]] = {}
    for clip_id, agreed in channels_by_clip.items():
        missing = [f"video-{f}.mp4" for f in formats if not covers(agreed, format_channels(f))]
        if not covers(agreed, OUTPUT_CHANNELS["cut"]):
            missing.append("cuts/")
        if missing:
            out[clip_id] = missing
    return out


@dataclass(frozen=True)
class CompileSelection:
    """The clips a compile may use, what each person agreed to, and who is left out."""

    clips: list[Clip]
    channels: dict[str, tuple[str, ...]]
    """Clip id → the channels agreed (every selected clip is in at least one output)."""
    excluded: dict[str, str]
    """Clip id → why an approved clip is in none of the compile's outputs."""


def select_for_compile(session: Session, campaign_id: str,
                       formats: Sequence[str]) -> CompileSelection:
    """The one call a compile makes when it selects clips (at start, and again at the join).

    Approved clips whose consent holds (:func:`usable_clips`) and that may appear in at least
    one output of the compile (a video of one of ``formats`` or the per-language cuts);
    each selected clip carries its channels so the join can leave it out of outputs made for
    channels the person did not choose (:func:`clips_for_output`).
    """
    clips: list[Clip] = []
    channels: dict[str, tuple[str, ...]] = {}
    excluded: dict[str, str] = {}
    for clip in usable_clips(session, campaign_id):
        decision = may_use(session, clip, "compile")
        if not decision:
            excluded[clip.id] = decision.code
            continue
        fits = [f for f in formats if covers(decision.channels, format_channels(f))]
        if not fits and not covers(decision.channels, OUTPUT_CHANNELS["cut"]):
            excluded[clip.id] = "channel_not_agreed"
            continue
        clips.append(clip)
        channels[clip.id] = decision.channels
    return CompileSelection(clips, channels, excluded)


def lost_consent(session: Session, clip_ids: Iterable[str]) -> set[str]:
    """Which of ``clip_ids`` may no longer be compiled (withdrawn, or the clip erased).

    Asked by a stage right before it stores what it made, so work already in flight when a
    person withdraws is dropped instead of stored.
    """
    lost = set()
    for clip_id in dict.fromkeys(clip_ids):
        clip = session.get(Clip, clip_id)
        if clip is None or not may_use(session, clip, "compile"):
            lost.add(clip_id)
    return lost
