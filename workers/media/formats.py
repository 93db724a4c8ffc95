"""The one list of file types Chorus accepts as an uploaded clip.

The ffmpeg gate (:func:`workers.media.ffmpeg.sniff_container`) opens only these container
families, the tus server refuses any other declared type when an upload is created, and the
staff upload refuses any other file: one table, so a type can never be accepted at the door
and then always refused by the gate (as AVI once was).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class AcceptedType:
    """A media type we accept: its container family (what the magic bytes must say) and the
    extension its original is stored with."""

    media_type: str
    family: str  # "mov" (ISO BMFF / QuickTime) or "matroska" (Matroska / WebM)
    extension: str


ACCEPTED_TYPES: dict[str, AcceptedType] = {t.media_type: t for t in (
    AcceptedType("video/webm", "matroska", ".webm"),
    AcceptedType("audio/webm", "matroska", ".webm"),
    AcceptedType("video/x-matroska", "matroska", ".mkv"),
    AcceptedType("video/mp4", "mov", ".mp4"),
    AcceptedType("audio/mp4", "mov", ".m4a"),
    AcceptedType("video/quicktime", "mov", ".mov"),
    AcceptedType("video/3gpp", "mov", ".3gp"),
)}

#: Container families the gate opens (ffmpeg's demuxers for them are in ``ffmpeg.py``).
FAMILIES = frozenset(t.family for t in ACCEPTED_TYPES.values())

#: Extensions a file without a useful declared type may have.
ACCEPTED_EXTENSIONS = frozenset(t.extension for t in ACCEPTED_TYPES.values())

#: Declared types that say nothing (a browser that does not know the file): judged by name.
_UNKNOWN_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})

#: What a person is told the accepted types are.
ACCEPTED_DESCRIPTION = "MP4, MOV or WebM"


def normalise_type(media_type: str) -> str:
    """``Video/MP4; codecs=avc1`` → ``video/mp4``."""
    return media_type.split(";", 1)[0].strip().lower()


def is_accepted(media_type: str, filename: str = "") -> bool:
    """May a file declared as ``media_type`` (named ``filename``) be uploaded?

    A declared type must be one of :data:`ACCEPTED_TYPES`; when the sender declared none (or
    only ``application/octet-stream``), the file name's extension decides; with neither, the
    file's own magic bytes decide when it is probed (the gate refuses what it cannot open).
    """
    declared = normalise_type(media_type)
    if declared not in _UNKNOWN_TYPES:
        return declared in ACCEPTED_TYPES
    suffix = PurePath(filename.replace("\\", "/")).suffix.lower()
    return not suffix or suffix in ACCEPTED_EXTENSIONS


def extension_for(media_type: str, filename: str = "") -> str:
    """The extension an accepted original is stored with (``.bin`` if nothing says)."""
    declared = ACCEPTED_TYPES.get(normalise_type(media_type))
    if declared is not None:
        return declared.extension
    suffix = PurePath(filename.replace("\\", "/")).suffix.lower()
    return suffix if suffix in ACCEPTED_EXTENSIONS else ".bin"
