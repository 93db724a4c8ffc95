"""S3Store against a real S3-compatible HTTP server (moto's server mode on loopback)."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from service.storage import InvalidKeyError, ObjectNotFoundError, ObjectStore, get_store
from service.storage.s3 import S3Store
from tests.integration.netutil import free_port

BUCKET = "chorus-test"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def store(s3_endpoint: str) -> S3Store:
    s = S3Store(BUCKET, endpoint_url=s3_endpoint, region="us-east-1",
                access_key_id="test", secret_access_key="test",
                part_size=5 * 1024 * 1024)
    s.ensure_bucket()
    return s


def _pending_multipart(store: S3Store) -> list[dict]:
    return store.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])


def test_is_an_object_store(store: S3Store) -> None:
    assert isinstance(store, ObjectStore)


def test_get_store_builds_s3_from_settings(s3_endpoint: str) -> None:
    from service.settings import Settings

    settings = Settings(storage_backend="s3", s3_bucket=BUCKET, s3_endpoint_url=s3_endpoint,
                        s3_region="us-east-1", s3_access_key_id="test",
                        s3_secret_access_key="test")
    s = get_store(settings)
    assert isinstance(s, S3Store)
    s.ensure_bucket()
    s.put_bytes("hello/settings.txt", b"from settings")
    assert s.size("hello/settings.txt") == len(b"from settings")


def test_small_round_trip(store: S3Store, tmp_path: Path) -> None:
    store.put_bytes("small/a.txt", b"hello", "text/plain")
    assert store.exists("small/a.txt")
    assert store.size("small/a.txt") == 5
    with store.open("small/a.txt") as fh:
        assert fh.read() == b"hello"
    head = store.client.head_object(Bucket=BUCKET, Key="small/a.txt")
    assert head["ContentType"] == "text/plain"
    assert store.url_or_path("small/a.txt") == f"s3://{BUCKET}/small/a.txt"
    store.delete("small/a.txt")
    assert not store.exists("small/a.txt")
    with pytest.raises(ObjectNotFoundError):
        store.open("small/a.txt")
    with pytest.raises(ObjectNotFoundError):
        store.get_file("small/a.txt", tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(InvalidKeyError):
        store.put_bytes("../escape", b"x")


def test_multipart_upload_and_streaming_download(store: S3Store, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    data = os.urandom(13 * 1024 * 1024 + 123)  # three parts of 5 MiB (the last one short)
    src.write_bytes(data)
    store.put_file("clips/c1/original.mp4", src, "video/mp4")

    head = store.client.head_object(Bucket=BUCKET, Key="clips/c1/original.mp4")
    # A multipart object's ETag is "<md5 of part md5s>-<number of parts>".
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]
    assert store.size("clips/c1/original.mp4") == len(data)

    digest = hashlib.sha256()
    with store.open("clips/c1/original.mp4") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()

    dest = tmp_path / "dl" / "copy.mp4"
    store.get_file("clips/c1/original.mp4", dest)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert _pending_multipart(store) == []


class _DroppingStream(io.RawIOBase):
    """Gives `good` bytes, then fails like a connection dropped mid-upload."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        if self.left <= 0:
            raise ConnectionResetError("source went away")
        n = min(len(buf), self.left)
        buf[:n] = b"z" * n
        self.left -= n
        return n


def test_failed_multipart_upload_leaves_nothing(store: S3Store) -> None:
    with pytest.raises(ConnectionResetError):
        store.put_stream("clips/broken/original.webm",
                         io.BufferedReader(_DroppingStream(12 * 1024 * 1024)))
    assert not store.exists("clips/broken/original.webm")
    # The transfer manager aborted the multipart upload: no parts are left behind.
    assert _pending_multipart(store) == []
    listed = boto3.client("s3", endpoint_url=store.client.meta.endpoint_url,
                          region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test").list_objects_v2(
        Bucket=BUCKET, Prefix="clips/broken/")
    assert listed.get("KeyCount", 0) == 0
