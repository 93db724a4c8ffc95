"""What is drawn over a clip: its caption cues and its lower third, timed on the segment.

One place for it, so the rendered segment and the review page's still preview draw the same
pictures at the same moments: :func:`clip_overlays` makes every overlay of a clip's segment
and :func:`overlays_at` picks the ones showing at one moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from workers.media import captions, cards
from workers.media.campaign import Campaign, ClipSpec
from workers.media.languages import language_name
from workers.media.render import TimedOverlay
from workers.media.style import FPS, Frame

LOWER_THIRD = (0.4, 5.5)
"""When the lower third shows: seconds from a clip's start (ending 0.4 s before a short
clip's end)."""


class ClipTiming(Protocol):
    """What the cues need of a prepared clip (a :class:`PreparedClip` is one)."""

    @property
    def trim_start(self) -> float: ...

    @property
    def trim_end(self) -> float: ...

    @property
    def duration(self) -> float: ...

    @property
    def speech(self) -> Sequence[tuple[float, float]]: ...


def translation_language(campaign: Campaign, spec: ClipSpec) -> str | None:
    """The language of the clip's translation line, ``None`` when it has none."""
    return campaign.translation_language if spec.translation else None


def clip_cues(campaign: Campaign, spec: ClipSpec, timing: ClipTiming, frame: Frame
              ) -> list[captions.Cue]:
    """The clip's caption cues for one frame size (wrapping depends on pixels).

    ``timing`` is the prepared clip (trim, duration, speech): the clip's own subtitles time
    the cues when it has them, else the detected speech does.
    """
    native = list(spec.sentences)
    translation = list(spec.translation) if spec.translation else None
    native_fit, translation_fit = cards.caption_fitters(
        frame, " ".join(native), spec.language,
        " ".join(translation) if translation else None, translation_language(campaign, spec))
    wrap_t = translation_fit.wrap if translation_fit else None
    if spec.subtitles is not None:
        return captions.cues_from_subtitles(
            list(spec.subtitles), translation, trim_start=timing.trim_start,
            trim_end=timing.trim_end, wrap_native=native_fit.wrap, wrap_translation=wrap_t,
            fps=FPS)
    return captions.time_cues(
        native, translation, list(timing.speech), timing.duration,
        wrap_native=native_fit.wrap, wrap_translation=wrap_t, fps=FPS)


def cue_dict(cue: captions.Cue) -> dict[str, Any]:
    """A cue as plain data (segment keys and the report)."""
    return {"start": round(cue.start, 3), "end": round(cue.end, 3),
            "native": list(cue.native_lines), "translation": list(cue.translation_lines),
            "sentences": list(cue.sentences)}


def lower_third_window(duration: float) -> tuple[float, float] | None:
    """When the lower third shows in a clip of ``duration`` seconds (``None``: too short)."""
    end = min(LOWER_THIRD[1], duration - 0.4)
    return (LOWER_THIRD[0], end) if end > LOWER_THIRD[0] else None


def clip_overlays(campaign: Campaign, spec: ClipSpec, duration: float,
                  cues: Sequence[captions.Cue], frame: Frame, work: Path,
                  *, at: float | None = None) -> list[TimedOverlay]:
    """Draw the clip's overlays into ``work``: its lower third and one caption per cue.

    ``at``: only those showing at that moment (seconds from the clip's start), as the
    segment's overlay filter would show them; the others are not drawn at all.
    """
    def showing(start: float, end: float) -> bool:
        return at is None or start <= at <= end  # as the overlay filter's between()

    overlays: list[TimedOverlay] = []
    window = lower_third_window(duration)
    if window is not None and showing(*window):
        name = language_name(spec.language, spec.language_name)
        lt = cards.render_lower_third(frame, name.native, name.english, spec.speaker, spec.role,
                                      campaign.brand, work / "lower.png",
                                      language=spec.language)
        overlays.append(TimedOverlay(lt, *window))
    for n, cue in enumerate(cues):
        if showing(cue.start, cue.end):
            ov = cards.render_caption(frame, cue.native_lines, spec.language,
                                      cue.translation_lines, translation_language(campaign, spec),
                                      work / f"cue{n:03d}.png")
            overlays.append(TimedOverlay(ov, cue.start, cue.end))
    return overlays
