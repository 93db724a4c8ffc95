"""The `ObjectStore` protocol, its errors and the key rules shared by every backend."""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO, BinaryIO, Protocol, runtime_checkable

# A key is a relative, slash-separated path of safe segments: letters, digits and `._-=+@`.
# No empty segment, no `.`/`..` segment, no leading slash, no backslash: the same key must mean
# the same object on disk and in S3, and never escape the store's root.
_SEGMENT = re.compile(r"\A[A-Za-z0-9_=+@-][A-Za-z0-9._=+@-]*\Z")
MAX_KEY_LENGTH = 512


class StorageError(Exception):
    """A storage operation failed (backend error, not a bad argument)."""


class InvalidKeyError(StorageError, ValueError):
    """The object key is unsafe or malformed (e.g. `..`, an absolute path)."""


class ObjectNotFoundError(StorageError, KeyError):
    """No object is stored under this key."""

    def __str__(self) -> str:  # KeyError quotes its argument; a message reads better.
        return str(self.args[0]) if self.args else "object not found"


def validate_key(key: str) -> str:
    """Return `key` if it is a safe object key, else raise `InvalidKeyError`.

    Why so strict: keys are built from ids we create, so anything unusual is a bug or an
    attack (path traversal through a crafted filename), and must fail loudly.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKeyError("object key is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(f"object key is longer than {MAX_KEY_LENGTH} characters")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise InvalidKeyError(f"object key {key!r} is absolute or contains a forbidden character")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.match(segment):
            raise InvalidKeyError(f"object key {key!r} has an unsafe segment {segment!r}")
    return key


@runtime_checkable
class ObjectStore(Protocol):
    """Where objects (clip originals, renders, logos) live.

    Every write is atomic: after `put_*` returns, the whole object is visible; if it raises,
    nothing is visible under the key (an earlier object under the same key is kept).
    """

    def put_file(self, key: str, path: str | Path, content_type: str | None = None) -> None:
        """Store the file at `path` under `key` (streams; large files in parts)."""

    def put_stream(self, key: str, stream: IO[bytes], content_type: str | None = None) -> None:
        """Store everything read from `stream` under `key`."""

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store `data` under `key`."""

    def open(self, key: str) -> BinaryIO:
        """Open the object for streaming reads; the caller closes it."""

    def get_file(self, key: str, dest_path: str | Path) -> None:
        """Copy the object to `dest_path` (atomically: temp file, then rename)."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""

    def size(self, key: str) -> int:
        """The object's size in bytes."""

    def url_or_path(self, key: str) -> str:
        """A local filesystem path (local store) or an `s3://bucket/key` URL (S3 store)."""
