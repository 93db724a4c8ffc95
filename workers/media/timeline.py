"""The edit as plain data: which segments go where in each output.

Every segment is a whole number of frames, so a segment's place on the compiled timeline is
exact and the same in every format (formats differ in pixels, never in timing). Subtitle files
and per-language cuts are derived from these offsets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workers.media.style import FPS


@dataclass(frozen=True)
class Segment:
    """One prepared piece of an output: an intro/outro card or a clip."""

    kind: str  # "intro" | "clip" | "outro"
    key: str  # content key (cache name)
    path: Path
    frames: int
    clip_index: int | None = None  # index in the campaign's clip list
    language: str | None = None

    @property
    def duration(self) -> float:
        return self.frames / FPS


@dataclass(frozen=True)
class Placed:
    segment: Segment
    start_frame: int

    @property
    def start(self) -> float:
        return self.start_frame / FPS

    @property
    def end(self) -> float:
        return (self.start_frame + self.segment.frames) / FPS


@dataclass(frozen=True)
class Timeline:
    """Segments in order, each with its start on the output's timeline."""

    placed: tuple[Placed, ...]

    @classmethod
    def of(cls, segments: Iterable[Segment]) -> Timeline:
        at = 0
        placed = []
        for seg in segments:
            placed.append(Placed(seg, at))
            at += seg.frames
        return cls(tuple(placed))

    @property
    def frames(self) -> int:
        return sum(p.segment.frames for p in self.placed)

    @property
    def duration(self) -> float:
        return self.frames / FPS

    @property
    def paths(self) -> list[Path]:
        return [p.segment.path for p in self.placed]

    @property
    def keys(self) -> list[str]:
        return [p.segment.key for p in self.placed]

    def clip_start(self, clip_index: int) -> float:
        for p in self.placed:
            if p.segment.clip_index == clip_index:
                return p.start
        raise KeyError(clip_index)

    def clips(self) -> list[Placed]:
        return [p for p in self.placed if p.segment.kind == "clip"]


def cut_for_language(segments: Sequence[Segment], language: str) -> Timeline:
    """A language's cut: the intro, that language's clip(s), the outro."""
    chosen = [s for s in segments
              if s.kind != "clip" or s.language == language]
    return Timeline.of(chosen)
