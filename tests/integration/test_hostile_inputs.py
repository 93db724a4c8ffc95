"""The hostile-input suite: every case of `tests/fixtures/hostile.py` through a live server.

Each file goes through the leader's link (tus, with a consent) or the staff tus upload, and a
handful also through the staff page's multipart upload; the clip is then probed by the real
stage. Every case gets its expected answer, the leader's page says why in their language (no
raw code), nothing is left half-way (no partial upload, no work folder, an original stored
whole or not at all). Meanwhile a canary HTTP server on loopback must receive no request, and
the content of a planted secret file must appear in no stored object, row, log or answer.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import func, select

from service import i18n
from service.clips.reasons import problem_message
from service.db import dispose_engines, unit_of_work
from service.models import Clip, Consent, TusUpload
from service.storage.local import LocalStore
from tests.fixtures import hostile
from tests.integration.leader_env import Server, running_server
from tests.integration.netutil import free_port
from workers.stages import probe as probe_stage

pytestmark = pytest.mark.media
TUS = {"Tus-Resumable": "1.0.0"}
BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}


class Canary:
    """An HTTP server on loopback that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                canary.requests.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"#EXTM3U\n")

            do_HEAD = do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    root = tmp_path_factory.mktemp("hostile")
    token = f"CHORUS-SECRET-{uuid.uuid4().hex}"
    secret = root / "secret" / "passwords.txt"
    secret.parent.mkdir()
    secret.write_text(token + "\n")
    canary = Canary()
    cases = hostile.make_cases(root / "cases", hostile.Canaries(secret, canary.url))
    with running_server(root / "srv", languages=("ur",), upload_quota_created_per_invite=1000,
                        upload_quota_completed_per_invite=1000) as server:
        yield {"server": server, "cases": cases, "canary": canary, "token": token,
               "answers": []}
    canary.close()
    dispose_engines()


def _meta(values: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _staff_session(server: Server) -> tuple[dict[str, str], str]:
    from service.auth.service import start_session
    from service.models import User

    with unit_of_work(server.seed.settings) as session:
        user = session.scalar(select(User).where(User.email == server.seed.staff_email))
        assert user is not None
        cookie, row = start_session(session, user, server.seed.settings)
        return {server.seed.settings.session_cookie_name: cookie}, row.csrf_token


def _consent(server: Server) -> None:
    seed = server.seed
    with unit_of_work(seed.settings) as session:
        session.add(Consent(invite_id=seed.invite_ids["ur"], leader_id=seed.leader_ids["ur"],
                            campaign_id=seed.campaign_id, wording_version="test",
                            wording_language="ur", channels=["facebook"],
                            shows_role_agreed=True, method="link"))


def _leftovers(server: Server) -> list[Path]:
    data = Path(server.seed.settings.data_dir)
    parts = list((data / "uploads").glob("*.part"))
    work = [p for p in (data / "work").rglob("*") if p.is_file()] if (data / "work").exists() \
        else []
    return parts + work


def _uploads(server: Server) -> int:
    with unit_of_work(server.seed.settings) as session:
        return session.scalar(select(func.count()).select_from(TusUpload)) or 0


def _send(world: dict[str, object], case: hostile.Case) -> httpx.Response:
    server: Server = world["server"]  # type: ignore[assignment]
    answers: list[str] = world["answers"]  # type: ignore[assignment]
    assert case.file is not None
    data = case.file.read_bytes()
    metadata = {"filetype": case.filetype, "filename": case.filename, **case.metadata}
    headers = {**TUS, "Upload-Length": str(case.declared_length if case.declared_length
                                           is not None else len(data))}
    cookies: dict[str, str] = {}
    if case.staff:
        cookies, csrf = _staff_session(server)
        headers["X-CSRF-Token"] = csrf
        metadata["campaign_id"] = server.seed.campaign_id
    else:
        headers["Chorus-Invite"] = server.seed.invites["ur"]
        _consent(server)
    headers["Upload-Metadata"] = case.raw_metadata or _meta(metadata)
    created = httpx.post(f"{server.url}/uploads/", headers=headers, cookies=cookies)
    answers.append(created.text)
    if case.outcome == hostile.REFUSED_AT_CREATION:
        return created
    assert created.status_code == 201, f"{case.name}: {created.text}"
    patched = httpx.patch(created.headers["Location"], content=data, cookies=cookies, headers={
        **{k: v for k, v in headers.items() if k not in ("Upload-Length", "Upload-Metadata")},
        "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    answers.append(patched.text)
    assert patched.status_code == 204, f"{case.name}: {patched.text}"
    return created


def test_the_suite_has_at_least_thirty_cases(world: dict[str, object]) -> None:
    cases: list[hostile.Case] = world["cases"]  # type: ignore[assignment]
    assert len(cases) >= 30
    assert len({c.name for c in cases}) == len(cases)


def test_every_case_gets_its_answer_and_leaves_nothing_half_way(
        world: dict[str, object]) -> None:
    server: Server = world["server"]  # type: ignore[assignment]
    cases: list[hostile.Case] = world["cases"]  # type: ignore[assignment]
    settings = server.seed.settings
    store = LocalStore(settings.storage_root)
    t = i18n.translator("ur")
    failures: list[str] = []
    for case in cases:
        before = _uploads(server)
        response = _send(world, case)
        if case.outcome == hostile.REFUSED_AT_CREATION:
            body = response.json()
            if response.status_code != case.status or body.get("code") not in case.expected:
                failures.append(f"{case.name}: {response.status_code} {body}")
            if not body.get("detail"):
                failures.append(f"{case.name}: no explanation in {body}")
            if _uploads(server) != before:
                failures.append(f"{case.name}: an upload row was left")
        else:
            upload_id = response.headers["Location"].rsplit("/", 1)[-1]
            with unit_of_work(settings) as session:
                clip = session.scalar(select(Clip).where(Clip.upload_id == upload_id))
                assert clip is not None, case.name
                clip_id = clip.id
            status = probe_stage.run(clip_id, settings)
            with unit_of_work(settings) as session:
                clip = session.get(Clip, clip_id)
                assert clip is not None
                code = clip.error_code or ""
                expected_status = "ready" if case.outcome == hostile.HANDLED else "failed"
                if status != expected_status or code not in case.expected:
                    failures.append(f"{case.name}: {status} {code!r}, expected {case.expected}")
                with store.open(clip.original_key) as fh:
                    stored = fh.read()
                assert case.file is not None
                if hashlib.sha256(stored).digest() != hashlib.sha256(
                        case.file.read_bytes()).digest():
                    failures.append(f"{case.name}: the original was not stored whole")
                if ".." in clip.original_key or "/" in clip.original_filename or \
                        BIDI & set(clip.original_filename):
                    failures.append(f"{case.name}: unsafe name {clip.original_filename!r}")
            if case.outcome == hostile.REFUSED_BY_PROBE:
                page = httpx.get(f"{server.url}/i/{server.seed.invites['ur']}")
                world["answers"].append(page.text)  # type: ignore[attr-defined]
                sentence = str(escape(t.gettext(problem_message(code))))
                if not case.staff and (sentence not in page.text or f": {code}" in page.text):
                    failures.append(f"{case.name}: the leader's page does not say why")
        left = _leftovers(server)
        if left:
            failures.append(f"{case.name}: left {left}")
    assert not failures, "\n".join(failures)


def test_staff_page_upload_refuses_the_same_files(world: dict[str, object]) -> None:
    """The staff page's multipart upload uses the same type table and the same probe."""
    server: Server = world["server"]  # type: ignore[assignment]
    cases = {c.name: c for c in world["cases"]}  # type: ignore[attr-defined]
    cookies, csrf = _staff_session(server)
    form = {"csrf_token": csrf, "language": "ur", "speaker_name": "A. Speaker",
            "consent_method": "signed_form", "consent_date": date.today().isoformat()}
    url = f"{server.url}/campaigns/{server.seed.campaign_id}/clips/upload"
    avi = cases["avi_declared"].file
    assert avi is not None
    r = httpx.post(url, data=form, cookies=cookies, headers={"Accept": "application/json"},
                   files={"files": ("clip.avi", avi.read_bytes(), "video/x-msvideo")})
    assert r.status_code == 415 and "MP4, MOV or WebM" in r.json()["detail"]
    for name in ("hls_http", "mp4_url_file_self_contained", "truncated_moov_first"):
        case = cases[name]
        assert case.file is not None
        r = httpx.post(url, data=form, cookies=cookies, headers={"Accept": "application/json"},
                       files={"files": (case.filename, case.file.read_bytes(), case.filetype)})
        assert r.status_code == 201, r.text
        (clip_id,) = r.json()["clips"]
        assert probe_stage.run(clip_id, server.seed.settings) == "failed"
        with unit_of_work(server.seed.settings) as session:
            clip = session.get(Clip, clip_id)
            assert clip is not None and clip.error_code in case.expected
    r = httpx.post(url, data={**form, "language": "ur\n"}, cookies=cookies,
                   headers={"Accept": "application/json"},
                   files={"files": ("a.mp4", b"\0\0\0\x18ftypmp42", "video/mp4")})
    assert r.status_code == 400 and r.json()["code"] == "bad_language"


def test_no_reference_was_followed(world: dict[str, object]) -> None:
    """Runs last in the module: the canary saw nothing and the secret is nowhere."""
    server: Server = world["server"]  # type: ignore[assignment]
    canary: Canary = world["canary"]  # type: ignore[assignment]
    token = str(world["token"]).encode()
    assert canary.requests == [], canary.requests
    settings = server.seed.settings
    # the server's whole folder: database (and its WAL), objects, data, work, log
    everything = Path(settings.database_url.removeprefix("sqlite:///")).parent
    assert Path(settings.storage_root).is_relative_to(everything)
    for path in (p for p in everything.rglob("*") if p.is_file()):
        assert token not in path.read_bytes(), f"the secret leaked into {path}"
    for answer in world["answers"]:  # type: ignore[attr-defined]
        assert token.decode() not in answer
