"""Which text a clip shows: THE rule, for the review page, the preview, the leader page and
the compile alike.

A clip's captions have two lines. The **native line** is what the speaker says: staff's own
text for the clip when they set one, else the campaign's message in the clip's language (the
script itself for the campaign's language, otherwise the approved translation). The
**translation line** is the message in the campaign's translation language, under the native
line: staff's own translation for the clip when set, else the approved translation (or the
script); a clip already in the translation language has none. The **cues** are staff's
manual timing when set (one cue per sentence, on the original's seconds), else the compile
times the sentences from the detected speech.

Languages match by :func:`workers.media.languages.same_language`, Chorus's one language
match: case-insensitive, with one fallback between a regional tag and its base language
(``en-GB`` ~ ``en``), never between two different scripts or regions.

Pure: plain values in, plain values out (:func:`campaign_text` in the repository reads them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from workers.media.captions import SubtitleEntry
from workers.media.languages import best_match, same_language


def _clean(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class CampaignText:
    """A campaign's message: the script, and the approved translations by language.

    ``approved[language][n]`` is the approved translation of sentence ``n`` (0-based).
    """

    language: str
    translation_language: str
    script: tuple[str, ...]
    approved: Mapping[str, Mapping[int, str]]

    def message_in(self, language: str) -> tuple[str, ...] | None:
        """The whole message in ``language``, or ``None`` while any sentence lacks an
        approved translation (half a message would mislead)."""
        if same_language(language, self.language):
            return tuple(_clean(s) for s in self.script)
        tag = best_match(language, [t for t, texts in self.approved.items()
                                    if all(texts.get(n, "").strip()
                                           for n in range(len(self.script)))])
        if tag is None:
            return None
        return tuple(_clean(self.approved[tag][n]) for n in range(len(self.script)))


@dataclass(frozen=True)
class ClipText:
    """What a clip shows. ``native is None``: the clip has no text yet (it cannot be
    compiled); ``translation is None``: no translation line (``translation_missing`` says
    whether one is wanted but not available); ``cues is None``: time from speech."""

    native: tuple[str, ...] | None
    translation: tuple[str, ...] | None
    translation_language: str | None
    cues: tuple[SubtitleEntry, ...] | None
    translation_missing: bool = False


def cue_entries(sentences: Sequence[str], times: Sequence[tuple[float, float]]
                ) -> tuple[SubtitleEntry, ...]:
    """Manual timing as timed text: cue *n* shows sentence *n*; sentences beyond the last cue
    join it, cues beyond the last sentence are dropped."""
    cues = list(times)[: len(sentences)]
    if not cues:
        return ()
    texts = list(sentences[: len(cues)])
    if len(sentences) > len(cues):
        texts[-1] = " ".join(sentences[len(cues) - 1:])
    return tuple(SubtitleEntry(float(a), float(b), text)
                 for (a, b), text in zip(cues, texts, strict=True))


def clip_text(campaign: CampaignText, language: str, *,
              sentences: Sequence[str] | None = None,
              translation: Sequence[str] | None = None,
              cue_times: Sequence[tuple[float, float]] | None = None) -> ClipText:
    """The rule (see the module's docstring). ``sentences``, ``translation`` and
    ``cue_times`` are staff's overrides for this clip (``None`` or empty: not set)."""
    own = tuple(_clean(s) for s in sentences or () if s.strip())
    native = own or campaign.message_in(language)
    line: tuple[str, ...] | None = None
    target: str | None = None
    missing = False
    if not same_language(language, campaign.translation_language):
        target = campaign.translation_language
        staff = tuple(_clean(s) for s in translation or () if s.strip())
        line = staff or campaign.message_in(target)
        missing = line is None
    cues = cue_entries(native, cue_times) if native and cue_times else None
    return ClipText(native=native, translation=line, translation_language=target,
                    cues=cues or None, translation_missing=missing)
