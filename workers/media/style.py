"""Output frames and brand colours: the visual constants every renderer shares."""

from __future__ import annotations

import re
from dataclasses import dataclass

FPS = 30
SAMPLE_RATE = 48_000
SAMPLES_PER_FRAME = SAMPLE_RATE // FPS  # 1600: segment audio is a whole number of frames


@dataclass(frozen=True)
class Frame:
    """One output format's picture size, and the safe area captions must stay inside."""

    name: str
    width: int
    height: int

    @property
    def margin_x(self) -> int:
        """Title-safe margin left and right (5% of the width)."""
        return round(self.width * 0.05)

    @property
    def margin_y(self) -> int:
        """Title-safe margin top and bottom (5% of the height)."""
        return round(self.height * 0.05)

    @property
    def safe_width(self) -> int:
        return self.width - 2 * self.margin_x

    @property
    def safe_height(self) -> int:
        return self.height - 2 * self.margin_y

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


FORMATS: dict[str, Frame] = {
    "landscape": Frame("landscape", 1920, 1080),
    "portrait": Frame("portrait", 1080, 1920),
    "square": Frame("square", 1080, 1080),
}
"""THE output formats (the one definition: the campaign file, the pages, the API, the
command line and the engine all read this; adding a format is adding it here)."""
DEFAULT_FORMAT = "landscape"

_HEX = re.compile(r"\A#(?:[0-9a-fA-F]{6})\Z")


def is_colour(value: str) -> bool:
    """True for ``#rrggbb`` colours (the only form the campaign file accepts)."""
    return bool(_HEX.match(value))


def rgb(value: str) -> tuple[int, int, int]:
    """``"#1d3557"`` → ``(29, 53, 87)``."""
    if not is_colour(value):
        raise ValueError(f"not a #rrggbb colour: {value!r}")
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


@dataclass(frozen=True)
class Brand:
    """A campaign's colours: card and fill background, text, and an accent for highlights."""

    background: str = "#1d3557"
    text: str = "#ffffff"
    accent: str = "#f1c40f"

    def ffmpeg_colour(self, which: str = "background") -> str:
        """The colour as ffmpeg writes it (``0x1d3557``)."""
        return "0x" + getattr(self, which)[1:]
