"""Overlapping PATCHes of one upload's last chunk (what tus-js-client does after a timeout),
against a live server, on SQLite and on PostgreSQL.

Whatever order the copies arrive in, the upload ends with exactly one clip, whose recorded
SHA-256 is the stored original's and the sent file's; nothing is truncated and nothing
deleted. Also: revoking the link while the last chunk is in flight makes no clip, and the
per-invite quota answers 429.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service.db import dispose_engines, unit_of_work
from service.models import Clip, Consent, Invite, TusUpload, utcnow
from service.storage.local import LocalStore
from tests.integration.compile_env import throwaway_postgres
from tests.integration.leader_env import Server, running_server

TUS = {"Tus-Resumable": "1.0.0"}
COPIES = 16
STAGGER = 0.02


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp(f"tus-race-{request.param}")
    if request.param == "sqlite":
        with running_server(root, languages=("ur",)) as srv:
            yield srv
    else:
        with throwaway_postgres() as url, running_server(
                root, languages=("ur",), database_url=url) as srv:
            yield srv
    dispose_engines()


def give_consent(server: Server) -> None:
    seed = server.seed
    with unit_of_work(seed.settings) as session:
        session.add(Consent(invite_id=seed.invite_ids["ur"], leader_id=seed.leader_ids["ur"],
                            campaign_id=seed.campaign_id, wording_version="test",
                            wording_language="ur", channels=["facebook"],
                            shows_role_agreed=True, method="link"))


def headers(server: Server, **extra: str) -> dict[str, str]:
    return {**TUS, "Chorus-Invite": server.seed.invites["ur"], **extra}


def create(server: Server, data: bytes, with_sha: bool) -> str:
    meta = [f"filetype {base64.b64encode(b'video/webm').decode()}"]
    if with_sha:
        meta.append("sha256 " + base64.b64encode(
            hashlib.sha256(data).hexdigest().encode()).decode())
    r = httpx.post(f"{server.url}/uploads/", headers=headers(
        server, **{"Upload-Length": str(len(data)), "Upload-Metadata": ",".join(meta)}))
    assert r.status_code == 201, r.text
    return r.headers["Location"]


def patch(url: str, server: Server, offset: int, body: bytes | Iterator[bytes],
          checksum: bytes | None = None) -> httpx.Response:
    extra = {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
    if checksum is not None:
        extra["Upload-Checksum"] = "sha256 " + base64.b64encode(
            hashlib.sha256(checksum).digest()).decode()
    return httpx.patch(url, headers=headers(server, **extra), content=body, timeout=60)


def slowly(chunk: bytes, pieces: int = 8, pause: float = 0.03) -> Iterator[bytes]:
    """The chunk in pieces with pauses, so copies sent a moment apart overlap."""
    step = max(1, len(chunk) // pieces)
    for i in range(0, len(chunk), step):
        yield chunk[i:i + step]
        time.sleep(pause)


def race_last_chunk(server: Server, url: str, data: bytes, offset: int,
                    with_checksum: bool) -> list[int]:
    last = data[offset:]
    statuses: list[int] = []
    lock = threading.Lock()

    def send(delay: float) -> None:
        time.sleep(delay)
        r = patch(url, server, offset, slowly(last), last if with_checksum else None)
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=send, args=(i * STAGGER,)) for i in range(COPIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def wait_for_clips(server: Server, upload_id: str, seconds: float = 20) -> list[Clip]:
    deadline = time.monotonic() + seconds
    while True:
        with unit_of_work(server.seed.settings) as session:
            clips = list(session.scalars(select(Clip).where(Clip.upload_id == upload_id)))
            upload = session.get(TusUpload, upload_id)
            done = upload is None or upload.completed_at is not None
        if (clips and done) or time.monotonic() > deadline:
            return clips
        time.sleep(0.1)


@pytest.mark.parametrize("with_checksum", [False, True], ids=["plain", "checksum"])
def test_last_chunk_sent_many_times_at_once_makes_one_true_clip(
        server: Server, with_checksum: bool) -> None:
    give_consent(server)
    give_consent(server)  # a consent for ANOTHER recording: a second clip must not take it
    # Big enough that hashing and copying take a while (the window the copies used to hit),
    # small enough to be completed inline.
    data = os.urandom(20 * 1024 * 1024 + 123)
    url = create(server, data, with_sha=True)
    upload_id = url.rsplit("/", 1)[-1]
    offset = 16 * 1024 * 1024
    first = patch(url, server, 0, data[:offset])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == str(offset)

    statuses = race_last_chunk(server, url, data, offset, with_checksum)

    assert statuses.count(204) >= 1, statuses
    assert set(statuses) <= {204, 409, 423}, statuses
    clips = wait_for_clips(server, upload_id)
    assert len(clips) == 1, f"{len(clips)} clips from one upload"
    clip = clips[0]
    sha = hashlib.sha256(data).hexdigest()
    assert clip.original_sha256 == sha and clip.size_bytes == len(data)
    store = LocalStore(server.seed.settings.storage_root)
    with store.open(clip.original_key) as fh:
        stored = fh.read()
    assert len(stored) == len(data) and hashlib.sha256(stored).hexdigest() == sha
    with unit_of_work(server.seed.settings) as session:
        upload = session.get(TusUpload, upload_id)
        assert upload is not None and upload.completed_at is not None
        assert upload.sha256 == sha
        taken = session.scalars(select(Consent).where(
            Consent.invite_id == server.seed.invite_ids["ur"],
            Consent.clip_id == clip.id)).all()
        assert len(taken) == 1
    head = httpx.head(url, headers=headers(server))
    assert head.headers["Upload-Offset"] == str(len(data))
    # a late copy of the last chunk changes nothing
    late = patch(url, server, offset, data[offset:])
    assert late.status_code == 409
    assert len(wait_for_clips(server, upload_id, seconds=0)) == 1


def test_revoking_the_link_stops_an_upload_in_flight(server: Server) -> None:
    give_consent(server)
    data = os.urandom(1024 * 1024)
    url = create(server, data, with_sha=False)
    upload_id = url.rsplit("/", 1)[-1]
    result: list[httpx.Response] = []

    def body() -> Iterator[bytes]:
        yield data[: len(data) // 2]
        # the staff member revokes the link while the bytes are still arriving
        with unit_of_work(server.seed.settings) as session:
            invite = session.get(Invite, server.seed.invite_ids["ur"])
            assert invite is not None
            invite.revoked_at = utcnow()
        yield data[len(data) // 2:]

    result.append(patch(url, server, 0, body()))
    try:
        assert result[0].status_code == 410, result[0].text
        assert result[0].json()["code"] == "invite.revoked"
        with unit_of_work(server.seed.settings) as session:
            assert session.scalars(select(Clip).where(Clip.upload_id == upload_id)).all() == []
            assert session.get(TusUpload, upload_id) is None
        assert not list(Path(server.seed.settings.data_dir, "uploads").glob(f"{upload_id}*"))
    finally:
        with unit_of_work(server.seed.settings) as session:
            invite = session.get(Invite, server.seed.invite_ids["ur"])
            assert invite is not None
            invite.revoked_at = None


def test_an_upload_whose_process_died_before_completion_is_completed(server: Server) -> None:
    """Every byte recorded, no clip (the process died between the two): HEAD finishes it."""
    give_consent(server)
    data = os.urandom(300_000)
    url = create(server, data, with_sha=True)
    upload_id = url.rsplit("/", 1)[-1]
    with unit_of_work(server.seed.settings) as session:
        upload = session.get(TusUpload, upload_id)
        assert upload is not None
        Path(upload.tmp_path).write_bytes(data)
        upload.offset = len(data)
    assert wait_for_clips(server, upload_id, seconds=0) == []
    head = httpx.head(url, headers=headers(server))
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(len(data))
    clips = wait_for_clips(server, upload_id)
    assert len(clips) == 1 and clips[0].original_sha256 == hashlib.sha256(data).hexdigest()
    assert clips[0].language == "ur" and clips[0].speaker_name == "Leader ur"


def test_per_invite_quota(server: Server) -> None:
    """Last in the module: it uses up the quota of the link."""
    give_consent(server)
    codes = []
    for _ in range(server.seed.settings.upload_quota_created_per_invite + 1):
        r = httpx.post(f"{server.url}/uploads/", headers=headers(
            server, **{"Upload-Length": "10"}))
        codes.append(r.status_code)
    assert codes[-1] == 429, codes
    assert "uploads in the last" in httpx.post(f"{server.url}/uploads/", headers=headers(
        server, **{"Upload-Length": "10"})).json()["detail"]
