"""Where a drawn image goes on the frame: the one thing every renderer hands to ffmpeg."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Overlay:
    """A PNG and where its top-left corner goes on the frame."""

    path: Path
    x: int
    y: int
    width: int
    height: int
