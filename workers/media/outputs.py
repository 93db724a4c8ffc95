"""The names of a compile's outputs: fixed, so a re-run can only ever produce one set.

Every output of a compile is one of these, relative to the output folder (``chorus
compile``) or to the compile's prefix in the object store (the workers). Adding a kind of
output is one function here.
"""

from __future__ import annotations

from pathlib import PurePosixPath

REPORT = "report.json"
SUBTITLE_KINDS = ("srt", "vtt")
CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt",
    ".json": "application/json",
}


def video(fmt: str) -> str:
    """The whole programme in one format."""
    return f"video-{fmt}.mp4"


def poster(fmt: str) -> str:
    return f"poster-{fmt}.jpg"


def cut(language: str, fmt: str) -> str:
    """A language's cut: the cards and that language's clip(s)."""
    return f"cuts/{language}-{fmt}.mp4"


def parse_cut(name: str) -> tuple[str, str] | None:
    """``(language, format)`` of a cut's name, ``None`` for any other output."""
    if not (name.startswith("cuts/") and name.endswith(".mp4")):
        return None
    language, _, fmt = name[len("cuts/"):-len(".mp4")].rpartition("-")
    return (language, fmt) if language and fmt else None


def subtitles(language: str, kind: str) -> str:
    """Subtitles of one language on the programme's timeline (``kind``: srt or vtt)."""
    return f"subtitles/{language}.{kind}"


def content_type(name: str) -> str:
    """The content type an output is stored and served with."""
    return CONTENT_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")
