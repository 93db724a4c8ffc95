"""LocalStore: atomic writes, key safety, streaming reads."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest

from service.storage import InvalidKeyError, ObjectNotFoundError, ObjectStore, validate_key
from service.storage.local import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "objects")


def test_is_an_object_store(store: LocalStore) -> None:
    assert isinstance(store, ObjectStore)


def test_put_file_get_file_round_trip(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)
    src.write_bytes(data)
    store.put_file("clips/abc/original.webm", src, "video/webm")
    assert store.exists("clips/abc/original.webm")
    assert store.size("clips/abc/original.webm") == len(data)
    dest = tmp_path / "out" / "copy.webm"
    store.get_file("clips/abc/original.webm", dest)
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(data).digest()
    with store.open("clips/abc/original.webm") as fh:
        assert fh.read(10) == data[:10]
    assert Path(store.url_or_path("clips/abc/original.webm")).is_file()


def test_put_bytes_replaces_whole_object(store: LocalStore) -> None:
    store.put_bytes("a/b.txt", b"first version")
    store.put_bytes("a/b.txt", b"2")
    with store.open("a/b.txt") as fh:
        assert fh.read() == b"2"


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b",
                                 "a\\b", ".hidden", "a/..", "x\x00y", "a b"])
def test_unsafe_keys_are_refused(store: LocalStore, key: str) -> None:
    with pytest.raises(InvalidKeyError):
        validate_key(key)
    with pytest.raises(InvalidKeyError):
        store.put_bytes(key, b"x")


def test_missing_object(store: LocalStore, tmp_path: Path) -> None:
    assert not store.exists("nope/x")
    with pytest.raises(ObjectNotFoundError):
        store.open("nope/x")
    with pytest.raises(ObjectNotFoundError):
        store.size("nope/x")
    with pytest.raises(ObjectNotFoundError):
        store.get_file("nope/x", tmp_path / "dest")
    assert not (tmp_path / "dest").exists()
    store.delete("nope/x")  # deleting a missing object is fine


def test_delete(store: LocalStore) -> None:
    store.put_bytes("k", b"v")
    store.delete("k")
    assert not store.exists("k")


class _FailingStream(io.RawIOBase):
    """Yields some bytes, then fails like a dropped connection."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        if self.left <= 0:
            raise ConnectionResetError("peer went away")
        n = min(len(buf), self.left)
        buf[:n] = b"x" * n
        self.left -= n
        return n


def test_failed_write_leaves_nothing_and_keeps_old_object(store: LocalStore) -> None:
    with pytest.raises(ConnectionResetError):
        store.put_stream("clips/new", io.BufferedReader(_FailingStream(2_000_000)))
    assert not store.exists("clips/new")
    store.put_bytes("clips/old", b"old")
    with pytest.raises(ConnectionResetError):
        store.put_stream("clips/old", io.BufferedReader(_FailingStream(2_000_000)))
    with store.open("clips/old") as fh:
        assert fh.read() == b"old"
    leftovers = list((store.root / ".incoming").iterdir())
    assert leftovers == []


def test_reader_never_sees_a_partial_object(store: LocalStore) -> None:
    """While a big write is in progress, the key is either absent or complete."""
    size = 8 * 1024 * 1024
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            if store.exists("big"):
                seen.append(store.size("big"))

    t = threading.Thread(target=watch)
    t.start()
    try:
        store.put_bytes("big", b"y" * size)
    finally:
        stop.set()
        t.join()
    assert all(s == size for s in seen)
    assert store.size("big") == size
