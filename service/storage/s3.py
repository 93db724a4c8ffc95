"""`S3Store`: objects in an S3 bucket (AWS, MinIO, Ceph, moto...) through boto3.

Large files go up as multipart uploads (boto3's transfer manager, parts of `part_size`), and a
failed multipart upload is aborted, so nothing half-written ever becomes visible (S3 only shows
an object once the upload completes). Reads stream from the response body.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from service.storage.base import ObjectNotFoundError, StorageError, validate_key

DEFAULT_PART_SIZE = 8 * 1024 * 1024  # S3's minimum part is 5 MiB (except the last one)
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class _BodyReader(io.RawIOBase):
    """Adapts botocore's StreamingBody to a raw file object, so it can be buffered."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._body.close()
        super().close()


class S3Store:
    """An `ObjectStore` in one S3 bucket, optionally under a key prefix."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
        part_size: int = DEFAULT_PART_SIZE,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise StorageError("the S3 store needs a bucket name (CHORUS_S3_BUCKET)")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"},
                          s3={"addressing_style": "path"} if endpoint_url else None),
        )
        self.transfer = TransferConfig(
            multipart_threshold=part_size, multipart_chunksize=part_size,
            max_concurrency=4, use_threads=True,
        )

    def _key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (for development and tests)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def _extra(self, content_type: str | None) -> dict[str, Any]:
        return {"ContentType": content_type} if content_type else {}

    def put_file(self, key: str, path: str | Path, content_type: str | None = None) -> None:
        try:
            self.client.upload_file(str(path), self.bucket, self._key(key),
                                    ExtraArgs=self._extra(content_type), Config=self.transfer)
        except ClientError as exc:
            raise StorageError(f"could not store {key!r} in bucket {self.bucket!r}: {exc}") from exc

    def put_stream(self, key: str, stream: IO[bytes], content_type: str | None = None) -> None:
        """Store everything read from `stream` (multipart when large; aborted on failure)."""
        try:
            self.client.upload_fileobj(stream, self.bucket, self._key(key),
                                       ExtraArgs=self._extra(content_type), Config=self.transfer)
        except ClientError as exc:
            raise StorageError(f"could not store {key!r} in bucket {self.bucket!r}: {exc}") from exc

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self.put_stream(key, io.BytesIO(data), content_type)

    def open(self, key: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                raise ObjectNotFoundError(key) from None
            raise StorageError(f"could not read {key!r}: {exc}") from exc
        return cast(BinaryIO, io.BufferedReader(_BodyReader(response["Body"]), 1024 * 1024))

    def get_file(self, key: str, dest_path: str | Path) -> None:
        dest = Path(dest_path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        os.close(fd)
        try:
            self.client.download_file(self.bucket, self._key(key), tmp_name,
                                      Config=self.transfer)
            os.replace(tmp_name, dest)
        except ClientError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                raise ObjectNotFoundError(key) from None
            raise StorageError(f"could not fetch {key!r}: {exc}") from exc
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return head
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return None
            raise StorageError(f"could not look up {key!r}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise ObjectNotFoundError(key)
        return int(head["ContentLength"])

    def url_or_path(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"
