"""What the engine compiles: a campaign and its clips as plain, frozen values.

Both front doors build these: the campaign-file loader (:mod:`workers.media.campaign_file`,
for ``chorus compile``) and the service's read-only plan loader (``service/renders/plan.py``,
for the workers). Nothing here knows where the values came from: no file lines, no database
ids. Every text is already decided (which sentences, which translation line, which timed
subtitles), so the engine draws what it is given and decides no rule about text itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workers.media.captions import SubtitleEntry
from workers.media.style import Brand


@dataclass(frozen=True)
class Card:
    """An intro or outro card: a line of text, for ``duration`` seconds, with an optional logo."""

    text: str
    duration: float
    logo: Path | None


@dataclass(frozen=True)
class ClipSpec:
    """One clip to compile.

    ``index`` is the clip's 1-based position in the campaign (as in messages and the report).
    ``sentences`` are the lines the clip's captions show in its own language;
    ``translation`` the translation line's sentences (``None``: no translation line, the clip
    is in the translation language). ``subtitles``, when given, time the captions (seconds of
    the original file) instead of the speech detector.
    """

    index: int
    file: Path
    language: str
    language_name: str | None
    speaker: str
    role: str
    sentences: tuple[str, ...]
    translation: tuple[str, ...] | None = None
    trim: tuple[float, float] | None = None
    subtitles: tuple[SubtitleEntry, ...] | None = None


@dataclass(frozen=True)
class Campaign:
    """A campaign ready to compile: cards, brand, formats and the clips, in order."""

    title: str
    language: str
    translation_language: str
    intro: Card | None
    outro: Card | None
    brand: Brand
    formats: tuple[str, ...]
    clips: tuple[ClipSpec, ...]
    loudness_target: float = -16.0
    warnings: tuple[str, ...] = ()
