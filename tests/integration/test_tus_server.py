"""The tus 1.0.0 server, with the `tuspy` client as a real peer against a real uvicorn."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError
from tusclient.uploader import Uploader

from service.db import dispose_engines, unit_of_work
from service.models import Clip, Consent, TusUpload
from service.storage.local import LocalStore
from service.uploads.service import expire_uploads
from tests.integration.leader_env import Server, running_server

MAX = 8 * 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


class Sha256Uploader(Uploader):
    """tuspy sends sha1 by default; our server speaks sha256."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


class WrongSha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", lambda data: hashlib.sha256(data + b"!"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("tus")
    with running_server(root, max_upload_bytes=MAX) as srv:
        yield srv
    dispose_engines()


def consent(server: Server, lang: str = "ur") -> None:
    """A consent given through the invite (what the page's form stores)."""
    seed = server.seed
    with unit_of_work(seed.settings) as session:
        session.add(Consent(invite_id=seed.invite_ids[lang], leader_id=seed.leader_ids[lang],
                            campaign_id=seed.campaign_id, wording_version="test",
                            wording_language=lang, channels=["facebook"],
                            shows_role_agreed=True, method="link"))


def client(server: Server, lang: str = "ur") -> tus_client.TusClient:
    return tus_client.TusClient(f"{server.url}/uploads/",
                                headers={"Chorus-Invite": server.seed.invites[lang]})


def make_file(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / "clip.webm"
    path.write_bytes(data)
    return path, data


def upload_id(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def test_options_advertises_extensions(server: Server) -> None:
    r = httpx.options(f"{server.url}/uploads/")
    assert r.status_code == 204
    assert r.headers["Tus-Version"] == "1.0.0"
    assert set(r.headers["Tus-Extension"].split(",")) == {
        "creation", "termination", "expiration", "checksum"}
    assert r.headers["Tus-Checksum-Algorithm"] == "sha256"
    assert int(r.headers["Tus-Max-Size"]) == MAX


def test_version_auth_and_consent_are_checked(server: Server) -> None:
    headers = {"Upload-Length": "10", "Chorus-Invite": server.seed.invites["pl"]}
    r = httpx.post(f"{server.url}/uploads/", headers=headers)
    assert r.status_code == 412 and r.headers["Tus-Version"] == "1.0.0"
    r = httpx.post(f"{server.url}/uploads/", headers={**TUS, "Upload-Length": "10"})
    assert r.status_code == 401
    r = httpx.post(f"{server.url}/uploads/", headers={**TUS, "Upload-Length": "10",
                                                      "Chorus-Invite": "guess"})
    assert r.status_code == 404
    # The Polish leader has not consented yet: no upload.
    r = httpx.post(f"{server.url}/uploads/", headers={**TUS, **headers})
    assert r.status_code == 403 and r.json()["code"] == "consent.required"


def test_full_upload_creates_clip_and_stores_original(server: Server, tmp_path: Path) -> None:
    consent(server)
    path, data = make_file(tmp_path, 3 * 1024 * 1024 + 5)
    sha = hashlib.sha256(data).hexdigest()
    uploader = Sha256Uploader(
        str(path), client=client(server), chunk_size=1024 * 1024, upload_checksum=True,
        metadata={"filename": "مسجد clip.webm", "filetype": "video/webm", "sha256": sha})
    uploader.upload()
    assert uploader.offset == len(data)

    r = httpx.head(uploader.url, headers={**TUS, "Chorus-Invite": server.seed.invites["ur"]})
    assert r.status_code == 200
    assert r.headers["Upload-Offset"] == str(len(data)) == r.headers["Upload-Length"]
    assert r.headers["Cache-Control"] == "no-store"

    seed = server.seed
    with unit_of_work(seed.settings) as session:
        upload = session.get(TusUpload, upload_id(uploader.url))
        assert upload is not None and upload.completed_at is not None
        clip = session.scalar(select(Clip).where(Clip.original_key == upload.object_key))
        assert clip is not None
        assert clip.status == "received" and clip.source == "recorded"
        assert clip.original_sha256 == sha and clip.size_bytes == len(data)
        assert clip.language == "ur" and clip.invite_id == seed.invite_ids["ur"]
        assert clip.sentences and clip.sentences[0].startswith("اس سردی")
        assert clip.original_filename == "مسجد clip.webm"
        assert clip.original_key.endswith(".webm")
        linked = session.scalar(select(Consent).where(Consent.clip_id == clip.id))
        assert linked is not None, "the consent given before recording now covers the clip"
        assert not Path(upload.tmp_path).exists()
        store = LocalStore(seed.settings.storage_root)
        with store.open(clip.original_key) as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == sha


def _patch_then_drop(url: str, token: str, offset: int, total: int, send: int) -> None:
    """Send a PATCH announcing `total` bytes, send only `send`, then cut the connection."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    head = (f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nTus-Resumable: 1.0.0\r\n"
            f"Chorus-Invite: {token}\r\nUpload-Offset: {offset}\r\n"
            f"Content-Type: application/offset+octet-stream\r\nContent-Length: {total}\r\n\r\n")
    sock.sendall(head.encode() + b"\x01" * send)
    time.sleep(0.3)
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def test_interrupted_upload_resumes_with_a_new_client(server: Server, tmp_path: Path) -> None:
    consent(server)
    path, data = make_file(tmp_path, 2 * 1024 * 1024)
    token = server.seed.invites["ur"]
    first = client(server).uploader(str(path), chunk_size=512 * 1024,
                                    metadata={"filetype": "video/mp4"})
    first.upload_chunk()  # the first 512 KiB arrive, then the "phone" goes away
    assert first.offset == 512 * 1024
    url = first.url

    # A connection cut in the middle of a PATCH: the bytes that arrived are kept.
    path.write_bytes(data)
    with open(path, "r+b") as fh:
        fh.seek(512 * 1024)
        fh.write(b"\x01" * 300_000)
    data = path.read_bytes()
    _patch_then_drop(url, token, 512 * 1024, len(data) - 512 * 1024, 300_000)
    deadline = time.monotonic() + 60
    while True:
        offset = int(httpx.head(url, headers={**TUS, "Chorus-Invite": token})
                     .headers["Upload-Offset"])
        if offset > 512 * 1024 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert 512 * 1024 < offset <= 512 * 1024 + 300_000

    # A new client (another process, a reloaded page) resumes from the server's offset.
    second = client(server).uploader(str(path), url=url, chunk_size=512 * 1024)
    assert second.offset == offset
    second.upload()
    seed = server.seed
    with unit_of_work(seed.settings) as session:
        upload = session.get(TusUpload, upload_id(url))
        assert upload is not None and upload.completed_at is not None
        assert upload.sha256 == hashlib.sha256(data).hexdigest()


def test_chunk_checksum_mismatch_is_refused(server: Server, tmp_path: Path) -> None:
    consent(server)
    path, _ = make_file(tmp_path, 100_000)
    uploader = WrongSha256Uploader(str(path), client=client(server), upload_checksum=True)
    with pytest.raises(TusCommunicationError) as err:
        uploader.upload()
    assert err.value.status_code == 460
    r = httpx.head(uploader.url, headers={**TUS, "Chorus-Invite": server.seed.invites["ur"]})
    assert r.headers["Upload-Offset"] == "0", "the bad chunk was discarded"


def test_whole_file_sha256_mismatch_discards_upload(server: Server, tmp_path: Path) -> None:
    consent(server)
    path, _ = make_file(tmp_path, 100_000)
    uploader = client(server).uploader(str(path), metadata={"sha256": "0" * 64})
    with pytest.raises(TusCommunicationError) as err:
        uploader.upload()
    assert err.value.status_code == 460
    r = httpx.head(uploader.url, headers={**TUS, "Chorus-Invite": server.seed.invites["ur"]})
    assert r.status_code == 404
    with unit_of_work(server.seed.settings) as session:
        assert session.scalar(select(Clip).where(Clip.original_sha256 == "0" * 64)) is None


def test_oversize_is_refused(server: Server, tmp_path: Path) -> None:
    consent(server)
    token = server.seed.invites["ur"]
    r = httpx.post(f"{server.url}/uploads/",
                   headers={**TUS, "Chorus-Invite": token, "Upload-Length": str(MAX + 1)})
    assert r.status_code == 413 and r.json()["code"] == "upload.too_large"
    # More bytes than announced are refused too, and nothing is kept.
    r = httpx.post(f"{server.url}/uploads/",
                   headers={**TUS, "Chorus-Invite": token, "Upload-Length": "10"})
    url = r.headers["Location"]
    r = httpx.patch(url, content=b"x" * 20, headers={
        **TUS, "Chorus-Invite": token, "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert r.status_code == 413
    assert httpx.head(url, headers={**TUS, "Chorus-Invite": token}).headers["Upload-Offset"] == "0"


def test_offset_mismatch_owner_and_termination(server: Server) -> None:
    consent(server)
    token = server.seed.invites["ur"]
    meta = "filetype " + base64.b64encode(b"video/webm").decode()
    r = httpx.post(f"{server.url}/uploads/", headers={
        **TUS, "Chorus-Invite": token, "Upload-Length": "100", "Upload-Metadata": meta})
    assert r.status_code == 201
    assert r.headers["Upload-Expires"].endswith("GMT")
    url = r.headers["Location"]
    ok = {**TUS, "Chorus-Invite": token, "Content-Type": "application/offset+octet-stream"}
    r = httpx.patch(url, content=b"x" * 10, headers={**ok, "Upload-Offset": "5"})
    assert r.status_code == 409
    r = httpx.patch(url, content=b"x" * 10, headers={**ok, "Upload-Offset": "0"})
    assert r.status_code == 204 and r.headers["Upload-Offset"] == "10"
    r = httpx.patch(url, content=b"x", headers={**ok, "Upload-Offset": "10",
                                                 "Content-Type": "text/plain"})
    assert r.status_code == 415
    # Another leader's invite cannot see or touch this upload.
    other = {**TUS, "Chorus-Invite": server.seed.invites["pl"]}
    assert httpx.head(url, headers=other).status_code == 404
    assert httpx.delete(url, headers=other).status_code == 404
    assert httpx.delete(url, headers={**TUS, "Chorus-Invite": token}).status_code == 204
    assert httpx.head(url, headers={**TUS, "Chorus-Invite": token}).status_code == 404


def test_not_media_type_is_refused(server: Server) -> None:
    consent(server)
    meta = "filetype " + base64.b64encode(b"application/x-msdownload").decode()
    r = httpx.post(f"{server.url}/uploads/", headers={
        **TUS, "Chorus-Invite": server.seed.invites["ur"], "Upload-Length": "100",
        "Upload-Metadata": meta})
    assert r.status_code == 415 and r.json()["code"] == "upload.not_media"


def test_unfinished_uploads_expire(server: Server) -> None:
    consent(server)
    token = server.seed.invites["ur"]
    r = httpx.post(f"{server.url}/uploads/",
                   headers={**TUS, "Chorus-Invite": token, "Upload-Length": "100"})
    url = r.headers["Location"]
    httpx.patch(url, content=b"y" * 40, headers={
        **TUS, "Chorus-Invite": token, "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    settings = server.seed.settings
    with unit_of_work(settings) as session:
        upload = session.get(TusUpload, upload_id(url))
        assert upload is not None
        tmp = Path(upload.tmp_path)
        assert tmp.stat().st_size == 40
        upload.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    assert httpx.head(url, headers={**TUS, "Chorus-Invite": token}).status_code == 410
    with unit_of_work(settings) as session:
        removed = expire_uploads(session, settings)
    assert removed >= 1
    assert not tmp.exists()
    with unit_of_work(settings) as session:
        assert session.get(TusUpload, upload_id(url)) is None
    assert httpx.head(url, headers={**TUS, "Chorus-Invite": token}).status_code == 404


def _staff_session(server: Server) -> tuple[str, str]:
    from service.auth.service import start_session
    from service.models import User

    with unit_of_work(server.seed.settings) as session:
        user = session.scalar(select(User).where(User.email == server.seed.staff_email))
        assert user is not None
        token, row = start_session(session, user, server.seed.settings)
        return token, row.csrf_token


def test_staff_upload_needs_session_csrf_and_own_campaign(server: Server, tmp_path: Path) -> None:
    cookie, csrf = _staff_session(server)
    name = server.seed.settings.session_cookie_name
    meta = protocol_meta(campaign_id=server.seed.campaign_id, language="pl",
                         speaker_name="Ks. Jan Nowak", speaker_role="Parish priest",
                         filetype="video/mp4", filename="signed-form-clip.mp4")
    base = {**TUS, "Upload-Length": "5", "Upload-Metadata": meta}
    r = httpx.post(f"{server.url}/uploads/", headers=base, cookies={name: cookie})
    assert r.status_code == 403 and r.json()["code"] == "upload.csrf"
    other = protocol_meta(campaign_id="00000000-0000-4000-8000-000000000000")
    r = httpx.post(f"{server.url}/uploads/", cookies={name: cookie},
                   headers={**TUS, "Upload-Length": "5", "Upload-Metadata": other,
                            "X-CSRF-Token": csrf})
    assert r.status_code == 404
    r = httpx.post(f"{server.url}/uploads/", headers={**base, "X-CSRF-Token": csrf},
                   cookies={name: cookie})
    assert r.status_code == 201
    url = r.headers["Location"]
    r = httpx.patch(url, content=b"abcde", cookies={name: cookie}, headers={
        **TUS, "X-CSRF-Token": csrf, "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert r.status_code == 204, r.text
    with unit_of_work(server.seed.settings) as session:
        clip = session.scalar(select(Clip).where(Clip.original_sha256 == hashlib.sha256(
            b"abcde").hexdigest()))
        assert clip is not None and clip.source == "staff_upload"
        assert clip.speaker_name == "Ks. Jan Nowak" and clip.language == "pl"
        assert clip.invite_id is None and clip.original_key.endswith(".mp4")


def protocol_meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def test_server_memory_does_not_grow_with_upload_size(tmp_path: Path) -> None:
    """A 160 MB upload in one PATCH streams to disk: the server's RSS barely moves; it is
    completed after the answer (it is over the inline size) and still makes its one clip."""
    import psutil

    size = 160 * 1024 * 1024
    with running_server(tmp_path / "srv", languages=("ur",), max_upload_bytes=size,
                        tus_max_chunk_bytes=size) as srv:
        consent(srv)
        path = tmp_path / "big.webm"
        with open(path, "wb") as fh:
            block = os.urandom(1024 * 1024)
            for _ in range(size // len(block)):
                fh.write(block)
        process = psutil.Process(srv.process.pid)
        before = process.memory_info().rss
        peak = before
        uploader = client(srv).uploader(str(path), chunk_size=size,
                                        metadata={"filetype": "video/webm"})
        import threading

        done = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, process.memory_info().rss)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            uploader.upload()
        finally:
            done.set()
            watcher.join()
        assert uploader.offset == size
        growth = peak - before
        assert growth < 40 * 1024 * 1024, f"server memory grew by {growth / 1e6:.0f} MB"
        deadline = time.monotonic() + 60
        clips: list[Clip] = []
        while time.monotonic() < deadline and not clips:
            with unit_of_work(srv.seed.settings) as session:
                clips = list(session.scalars(select(Clip).where(
                    Clip.upload_id == upload_id(uploader.url))))
            time.sleep(0.2)
        assert len(clips) == 1 and clips[0].size_bytes == size
