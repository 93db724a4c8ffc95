"""Content-addressed cache of prepared work, and whole-or-nothing file writes.

A segment's key is the SHA-256 of everything that decides its pixels and samples: the input
file's content hash, the recipe (trim, texts, cues, names, brand, frame) and the encoder
settings, plus :data:`RECIPE_VERSION`, bumped whenever rendering code changes its output.
Same key, same segment: a recompile renders only what changed. Keys never depend on paths or
times, so a cache folder can be shared between campaigns and machines.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

#: Bump when a change to the rendering code changes what a recipe produces.
RECIPE_VERSION = 4

_CHUNK = 1 << 20


def public_mode() -> int:
    """The mode an ordinary new file gets here (0o666 less the umask): temp files start 0o600."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's content, read in 1 MiB chunks (memory stays flat)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def recipe_key(*parts: Any) -> str:
    """A stable key for a recipe: JSON with sorted keys, hashed."""
    blob = json.dumps([RECIPE_VERSION, *parts], sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class HashCache:
    """Remembers file hashes by (size, mtime) so a recompile does not re-read every clip."""

    def __init__(self, index: Path):
        self.index = index
        self._data: dict[str, dict[str, Any]] = {}
        try:
            self._data = json.loads(index.read_text("utf-8"))
        except (OSError, ValueError):
            self._data = {}
        self._dirty = False

    def sha256(self, path: Path) -> str:
        st = path.stat()
        name = str(path.resolve())
        entry = self._data.get(name)
        if entry and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
            return str(entry["sha256"])
        digest = file_sha256(path)
        self._data[name] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
        self._dirty = True
        return digest

    def save(self) -> None:
        if self._dirty:
            write_text_atomic(self.index, json.dumps(self._data, indent=0, sort_keys=True))
            self._dirty = False


def write_bytes_atomic(path: Path, data: bytes) -> bool:
    """Write a file whole or not at all. Returns False (and leaves the file untouched) when
    it already holds exactly these bytes, so unchanged outputs keep their modification time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, public_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return True


def write_text_atomic(path: Path, text: str) -> bool:
    return write_bytes_atomic(path, text.encode("utf-8"))
