"""The tus 1.0.0 protocol as pure functions: headers in, values out (no I/O, no framework).

Why our own server rather than `tuspyserver` (evaluated, 4.4.3): it keeps upload state in its
own JSON files instead of our database, has no checksum extension, answers HEAD with 400 when
`filename`/`filetype` metadata is missing (the protocol makes metadata optional), and offers
one auth dependency for all uploads where we need per-invite ownership checks. The protocol is
small; implementing it here keeps state, authorisation and the original's SHA-256 in one place.

Spec: https://tus.io/protocols/resumable-upload (core, creation, termination, expiration,
checksum).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration,checksum"
CHECKSUM_ALGORITHMS = "sha256"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
#: tus's own status for a chunk whose Upload-Checksum does not match (not in the HTTP RFCs).
CHECKSUM_MISMATCH = 460

_KEY = re.compile(r"\A[A-Za-z0-9._-]{1,64}\Z")
MAX_METADATA_HEADER = 8192


class ProtocolError(ValueError):
    """A request that breaks the protocol; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def parse_metadata(header: str | None) -> dict[str, str]:
    """Decode `Upload-Metadata`: comma-separated `key base64value` pairs (value optional).

    Values must be UTF-8 text here (we only accept names, types, languages and hashes).
    """
    if not header:
        return {}
    if len(header) > MAX_METADATA_HEADER:
        raise ProtocolError(400, "upload.bad_metadata", "Upload-Metadata is too long")
    result: dict[str, str] = {}
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        if not parts or not parts[0] or len(parts) > 2 or not _KEY.match(parts[0]):
            raise ProtocolError(400, "upload.bad_metadata", f"bad Upload-Metadata pair {pair!r}")
        key = parts[0]
        if key in result:
            raise ProtocolError(400, "upload.bad_metadata", f"duplicate metadata key {key!r}")
        value = ""
        if len(parts) == 2:
            try:
                value = base64.b64decode(parts[1], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise ProtocolError(400, "upload.bad_metadata",
                                    f"metadata {key!r} is not base64-encoded UTF-8") from None
        result[key] = value
    return result


def encode_metadata(metadata: dict[str, str]) -> str:
    """Encode metadata for the `Upload-Metadata` response header."""
    return ",".join(
        f"{k} {base64.b64encode(v.encode('utf-8')).decode('ascii')}" if v else k
        for k, v in metadata.items()
    )


def parse_length(value: str | None, name: str) -> int:
    """A non-negative integer header (Upload-Length, Upload-Offset)."""
    if value is None or not value.isdigit() or len(value) > 19:
        raise ProtocolError(400, "upload.bad_request", f"{name} must be a non-negative integer")
    return int(value)


@dataclass(frozen=True)
class Checksum:
    """A parsed `Upload-Checksum` header: algorithm and raw digest."""

    algorithm: str
    digest: bytes


def parse_checksum(header: str | None) -> Checksum | None:
    """Parse `Upload-Checksum: sha256 <base64 digest>`; unsupported algorithms are refused."""
    if not header:
        return None
    parts = header.strip().split(" ")
    if len(parts) != 2:
        raise ProtocolError(400, "upload.bad_checksum", "Upload-Checksum must be '<algo> <b64>'")
    algorithm = parts[0].lower()
    if algorithm not in CHECKSUM_ALGORITHMS.split(","):
        raise ProtocolError(400, "upload.bad_checksum",
                            f"checksum algorithm {algorithm!r} is not supported (use sha256)")
    try:
        digest = base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        raise ProtocolError(400, "upload.bad_checksum", "Upload-Checksum is not base64") from None
    if len(digest) != 32:
        raise ProtocolError(400, "upload.bad_checksum", "a sha256 digest is 32 bytes")
    return Checksum(algorithm, digest)


def parse_sha256_hex(value: str | None) -> str | None:
    """The whole file's SHA-256 from metadata `sha256` (hex, or base64 as tus clients send)."""
    if not value:
        return None
    text = value.strip().lower()
    if re.fullmatch(r"[0-9a-f]{64}", text):
        return text
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) == 32:
        return raw.hex()
    raise ProtocolError(400, "upload.bad_checksum", "metadata sha256 must be 64 hex digits")


def http_date(moment: datetime) -> str:
    """RFC 7231 date for `Upload-Expires`."""
    return format_datetime(moment, usegmt=True)
