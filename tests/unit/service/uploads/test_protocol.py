"""Pure tus header parsing."""

from __future__ import annotations

import base64
import hashlib

import pytest

from service.uploads import protocol
from service.uploads.protocol import ProtocolError


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_metadata_round_trip_with_unicode_and_empty_values() -> None:
    header = f"filename {b64('مسجد.webm')},filetype {b64('video/webm')},flag"
    parsed = protocol.parse_metadata(header)
    assert parsed == {"filename": "مسجد.webm", "filetype": "video/webm", "flag": ""}
    assert protocol.parse_metadata(protocol.encode_metadata(parsed)) == parsed
    assert protocol.parse_metadata(None) == {}


@pytest.mark.parametrize("header", ["filename not-base64!", "a b c", "bad key aGk=",
                                    f"k {b64('x')},k {b64('y')}",
                                    "k " + base64.b64encode(b"\xff\xfe").decode()])
def test_bad_metadata_is_400(header: str) -> None:
    with pytest.raises(ProtocolError) as err:
        protocol.parse_metadata(header)
    assert err.value.status == 400


def test_lengths() -> None:
    assert protocol.parse_length("0", "Upload-Offset") == 0
    for bad in (None, "-1", "1.5", "abc", "9" * 30):
        with pytest.raises(ProtocolError):
            protocol.parse_length(bad, "Upload-Length")


def test_checksum_header() -> None:
    digest = hashlib.sha256(b"chunk").digest()
    parsed = protocol.parse_checksum("sha256 " + base64.b64encode(digest).decode())
    assert parsed is not None and parsed.digest == digest
    assert protocol.parse_checksum(None) is None
    for bad in ("sha1 " + base64.b64encode(b"x" * 20).decode(), "sha256", "sha256 ***",
                "sha256 " + base64.b64encode(b"short").decode()):
        with pytest.raises(ProtocolError):
            protocol.parse_checksum(bad)


def test_whole_file_sha256_hex_or_base64() -> None:
    digest = hashlib.sha256(b"file").digest()
    assert protocol.parse_sha256_hex(digest.hex().upper()) == digest.hex()
    assert protocol.parse_sha256_hex(base64.b64encode(digest).decode()) == digest.hex()
    assert protocol.parse_sha256_hex("") is None
    with pytest.raises(ProtocolError):
        protocol.parse_sha256_hex("1234")
