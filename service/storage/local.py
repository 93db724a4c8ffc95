"""`LocalStore`: objects as files under one root folder (the embedded default).

Writes go to a temporary file in `<root>/.incoming/` (same filesystem, so the final rename is
atomic), are fsynced, then renamed into place and the folder fsynced: after a crash an object is
either wholly there or not there at all. Keys are validated, so nothing escapes the root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, BinaryIO, cast

from service.storage.base import ObjectNotFoundError, validate_key

_CHUNK = 1024 * 1024
_INCOMING = ".incoming"  # keys never start with "." so this cannot collide with an object


def _fsync_dir(path: Path) -> None:
    """Persist a rename: the directory entry itself must reach the disk."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class LocalStore:
    """An `ObjectStore` on the local disk."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / _INCOMING).mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        # Belt and braces: validate_key already forbids traversal, symlinks could not.
        if self.root not in path.parents:
            raise ObjectNotFoundError(key)
        return path

    def _write_atomically(self, key: str, fill: BinaryIO | bytes) -> None:
        target = self._path(key)
        fd, tmp_name = tempfile.mkstemp(prefix="put-", dir=self.root / _INCOMING)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(fill, bytes):
                    out.write(fill)
                else:
                    shutil.copyfileobj(fill, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o640)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise

    def put_file(self, key: str, path: str | Path, content_type: str | None = None) -> None:
        with open(path, "rb") as src:
            self._write_atomically(key, src)

    def put_stream(self, key: str, stream: IO[bytes], content_type: str | None = None) -> None:
        self._write_atomically(key, cast(BinaryIO, stream))

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self._write_atomically(key, bytes(data))

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFoundError(key) from None

    def get_file(self, key: str, dest_path: str | Path) -> None:
        dest = Path(dest_path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        try:
            with self.open(key) as src, os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(src, out, _CHUNK)
            os.replace(tmp_name, dest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def size(self, key: str) -> int:
        try:
            path = self._path(key)
            if not path.is_file():
                raise FileNotFoundError(key)
            return path.stat().st_size
        except FileNotFoundError:
            raise ObjectNotFoundError(key) from None

    def url_or_path(self, key: str) -> str:
        return str(self._path(key))
