"""Where a compile's outputs are stored: fixed names under the compile's prefix.

The names themselves are the engine's (:mod:`workers.media.outputs`: ``video-{format}.mp4``,
``subtitles/{lang}.srt|vtt``, ``cuts/{lang}-{format}.mp4``, ``poster-{format}.jpg``,
``report.json``), the same for ``chorus compile``'s folder and the object store, so a re-run
can only ever produce one set. Segments are stored once for every compile, by content key.
"""

from __future__ import annotations

from pathlib import Path

from workers.media import outputs as names

content_type = names.content_type


def output_prefix(compile_id: str) -> str:
    return f"compiles/{compile_id}/"


def output_key(compile_id: str, name: str) -> str:
    """The object key of one output."""
    return f"{output_prefix(compile_id)}{name}"


def segment_key(key: str) -> str:
    """Where a rendered segment is stored: content-addressed, shared by every compile."""
    return f"segments/{key}.mov"


def engine_cache_dir(data_dir: str | Path) -> Path:
    """The engine's cache folder on this machine (prepared clips, segments, file hashes):
    shared by the stages and the review page's preview, so each prepares a clip once."""
    path = Path(data_dir) / "cache" / "segments"
    path.mkdir(parents=True, exist_ok=True)
    return path
