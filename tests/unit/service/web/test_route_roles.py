"""Every route × every kind of caller: who gets in, who is sent to sign in, who is refused,
and who is told there is nothing there.

The table below has one entry per route (method and path) of the app. Adding a route
without adding it here fails :func:`test_every_route_is_in_the_table`: its access rule must
be decided, not inherited by accident. Each caller kind gets its own fresh world (two
organisations, a campaign with a leader, an invite, a clip and a compile in the first), and
requests run with no body: what is checked is the gate, not the work (a 422 for a missing
body means the caller got past the gate).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from service.db import unit_of_work
from service.invitations import service as invitations
from service.invitations.fonts import font_files
from service.models import Compile, new_id
from service.storage import get_store
from tests.fixtures import service_rows
from tests.fixtures.staff import (
    PASSWORD,
    StaffClient,
    StaffEnv,
    create_campaign,
    create_leader,
    fast_hashing,  # noqa: F401
    login,
    make_env,
)

ROLES = ("anonymous", "invite", "viewer", "editor", "admin", "other_org")

# What each caller kind sees, by rule. Outcomes: "in" (past the gate: 2xx, 3xx other than to
# the sign-in page, or 4xx about the request itself), "login" (401 or sent to /login),
# "forbidden" (403), "hidden" (404/410: nothing there for this caller). Never a 5xx.
RULES: dict[str, dict[str, str]] = {
    # anyone
    "public": dict.fromkeys(ROLES, "in"),
    # anyone; the object named in the path does not exist for anyone
    "public_missing": dict.fromkeys(ROLES, "hidden"),
    # staff of any role; an object of the first organisation (others: not found)
    "viewer": {"anonymous": "login", "invite": "login", "viewer": "in", "editor": "in",
               "admin": "in", "other_org": "hidden"},
    # staff of any role; not tied to one object (another organisation sees its own)
    "viewer_any": {"anonymous": "login", "invite": "login", "viewer": "in", "editor": "in",
                   "admin": "in", "other_org": "in"},
    "editor": {"anonymous": "login", "invite": "login", "viewer": "forbidden", "editor": "in",
               "admin": "in", "other_org": "hidden"},
    "editor_any": {"anonymous": "login", "invite": "login", "viewer": "forbidden",
                   "editor": "in", "admin": "in", "other_org": "in"},
    "admin": {"anonymous": "login", "invite": "login", "viewer": "forbidden",
              "editor": "forbidden", "admin": "in", "other_org": "hidden"},
    # admins only; the object named in the path does not exist (an erasure report's id)
    "admin_missing": {"anonymous": "login", "invite": "login", "viewer": "forbidden",
                      "editor": "forbidden", "admin": "hidden", "other_org": "hidden"},
    "admin_any": {"anonymous": "login", "invite": "login", "viewer": "forbidden",
                  "editor": "forbidden", "admin": "in", "other_org": "in"},
    # the leader's link: only its holder (everyone else knows no working token)
    "invite": {"anonymous": "hidden", "invite": "in", "viewer": "hidden", "editor": "hidden",
               "admin": "hidden", "other_org": "hidden"},
    # staff; the object exists but has nothing there yet (no logo, no compiled file)
    "viewer_empty": {"anonymous": "login", "invite": "login", "viewer": "hidden",
                     "editor": "hidden", "admin": "hidden", "other_org": "hidden"},
    # tus creation: the link's holder, or staff who may upload (editor and up)
    "tus_create": {"anonymous": "login", "invite": "in", "viewer": "forbidden",
                   "editor": "in", "admin": "in", "other_org": "hidden"},
    # an upload in progress of the first organisation's editor
    "tus_upload": {"anonymous": "login", "invite": "hidden", "viewer": "forbidden",
                   "editor": "in", "admin": "hidden", "other_org": "hidden"},
    # the sign-in form takes anyone; a signed-in caller is sent on
    "login_form": dict.fromkeys(ROLES, "in"),
    # a form for someone not signed in: refused without its double-submit CSRF cookie
    "anonymous_form": dict.fromkeys(ROLES, "forbidden"),
    # metrics are for the scraper on the internal network only (see infra), not the app's
    "ops": dict.fromkeys(ROLES, "in"),
}

# (method, path) → rule. ``last`` marks changes that destroy the world (run at the end).
TABLE: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "public",
    ("GET", "/static"): "public_missing",
    ("GET", "/"): "public",
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "ops",
    ("GET", "/metrics"): "ops",
    ("GET", "/api/docs"): "public",
    ("GET", "/login"): "login_form",
    ("POST", "/login"): "anonymous_form",
    ("POST", "/logout"): "viewer_any",
    ("GET", "/api/me"): "viewer_any",
    ("POST", "/api/logout"): "viewer_any",
    ("GET", "/account/password"): "viewer_any",
    ("POST", "/account/password"): "viewer_any",
    ("POST", "/api/me/password"): "viewer_any",
    ("GET", "/password-reset"): "public",
    ("POST", "/password-reset"): "anonymous_form",
    ("GET", "/password-reset/{token}"): "public_missing",
    ("POST", "/password-reset/{token}"): "anonymous_form",
    ("GET", "/campaigns"): "viewer_any",
    ("GET", "/audit"): "admin_any",
    ("GET", "/audit.csv"): "admin_any",
    ("GET", "/erasures/{report_id}"): "admin_missing",
    ("POST", "/clips/{clip_id}/erase"): "admin",
    ("POST", "/api/clips/{clip_id}/erase"): "admin",
    ("POST", "/leaders/{leader_id}/erase"): "admin",
    ("POST", "/api/leaders/{leader_id}/erase"): "admin",
    ("GET", "/campaigns/new"): "editor_any",
    ("POST", "/campaigns/new"): "editor_any",
    ("GET", "/campaigns/{campaign_id}"): "viewer",
    ("GET", "/campaigns/{campaign_id}/edit"): "editor",
    ("POST", "/campaigns/{campaign_id}/edit"): "editor",
    ("POST", "/campaigns/{campaign_id}/delete"): "admin",
    ("GET", "/campaigns/{campaign_id}/logo"): "viewer_empty",
    ("GET", "/campaigns/{campaign_id}/translations/{language}"): "viewer",
    ("POST", "/campaigns/{campaign_id}/translations/{language}"): "editor",
    ("GET", "/campaigns/{campaign_id}/translations/{language}/export.po"): "viewer",
    ("POST", "/campaigns/{campaign_id}/translations/{language}/import"): "editor",
    ("GET", "/api/campaigns"): "viewer_any",
    ("POST", "/api/campaigns"): "editor_any",
    ("GET", "/api/campaigns/{campaign_id}"): "viewer",
    ("PUT", "/api/campaigns/{campaign_id}"): "editor",
    ("DELETE", "/api/campaigns/{campaign_id}"): "admin",
    ("PUT", "/api/campaigns/{campaign_id}/logo"): "editor",
    ("GET", "/api/campaigns/{campaign_id}/translations/{language}"): "viewer",
    ("PUT", "/api/campaigns/{campaign_id}/translations/{language}"): "editor",
    ("GET", "/api/campaigns/{campaign_id}/translations/{language}/po"): "viewer",
    ("POST", "/api/campaigns/{campaign_id}/translations/{language}/po"): "editor",
    ("GET", "/leaders"): "viewer_any",
    ("GET", "/leaders/new"): "editor_any",
    ("POST", "/leaders/new"): "editor_any",
    ("GET", "/leaders/{leader_id}/edit"): "editor",
    ("POST", "/leaders/{leader_id}/edit"): "editor",
    ("POST", "/leaders/{leader_id}/delete"): "editor",
    ("GET", "/campaigns/{campaign_id}/invites"): "viewer",
    ("POST", "/campaigns/{campaign_id}/invites"): "editor",
    ("POST", "/campaigns/{campaign_id}/invites/{invite_id}/reissue"): "editor",
    ("POST", "/campaigns/{campaign_id}/invites/{invite_id}/revoke"): "editor",
    ("GET", "/api/leaders"): "viewer_any",
    ("POST", "/api/leaders"): "editor_any",
    ("GET", "/api/leaders/{leader_id}"): "viewer",
    ("PUT", "/api/leaders/{leader_id}"): "editor",
    ("DELETE", "/api/leaders/{leader_id}"): "editor",
    ("GET", "/api/campaigns/{campaign_id}/invites"): "viewer",
    ("POST", "/api/campaigns/{campaign_id}/invites"): "editor",
    ("POST", "/api/campaigns/{campaign_id}/invites/{invite_id}/revoke"): "editor",
    ("GET", "/campaigns/{campaign_id}/board"): "viewer",
    ("GET", "/api/campaigns/{campaign_id}/board"): "viewer",
    ("GET", "/staff"): "admin_any",
    ("POST", "/staff"): "admin_any",
    ("POST", "/staff/{user_id}/{action}"): "admin",
    ("GET", "/api/users"): "admin_any",
    ("POST", "/api/users"): "admin_any",
    ("POST", "/api/users/{user_id}/deactivate"): "admin",
    ("POST", "/api/users/{user_id}/activate"): "admin",
    ("GET", "/i/{token}"): "invite",
    ("POST", "/i/{token}/consent"): "invite",
    ("GET", "/i/{token}/record"): "invite",
    ("GET", "/i/{token}/thanks"): "invite",
    ("GET", "/i/{token}/withdraw"): "invite",
    ("POST", "/i/{token}/withdraw"): "invite",
    ("GET", "/leader-fonts/{name}"): "public",
    ("OPTIONS", "/uploads/{upload_id}"): "public",
    ("OPTIONS", "/uploads/"): "public",
    ("POST", "/uploads/"): "tus_create",
    ("HEAD", "/uploads/{upload_id}"): "tus_upload",
    ("PATCH", "/uploads/{upload_id}"): "tus_upload",
    ("DELETE", "/uploads/{upload_id}"): "tus_upload",
    ("GET", "/clips/static/{name}"): "public",
    ("GET", "/campaigns/{campaign_id}/clips"): "viewer",
    ("GET", "/clips/{clip_id}"): "viewer",
    ("POST", "/clips/{clip_id}/review"): "editor",
    ("POST", "/clips/{clip_id}/trim"): "editor",
    ("POST", "/clips/{clip_id}/text"): "editor",
    ("POST", "/clips/{clip_id}/cues"): "editor",
    ("GET", "/clips/{clip_id}/original"): "viewer",
    ("GET", "/clips/{clip_id}/preview.jpg"): "viewer",
    ("POST", "/campaigns/{campaign_id}/clips/upload"): "editor",
    ("GET", "/api/campaigns/{campaign_id}/clips"): "viewer",
    ("GET", "/api/clips/{clip_id}"): "viewer",
    ("POST", "/api/clips/{clip_id}/review"): "editor",
    ("PUT", "/api/clips/{clip_id}/trim"): "editor",
    ("PUT", "/api/clips/{clip_id}/text"): "editor",
    ("PUT", "/api/clips/{clip_id}/cues"): "editor",
    ("GET", "/api/reject-reasons"): "viewer_any",
    ("GET", "/renders/static/{name}"): "public",
    ("GET", "/campaigns/{campaign_id}/compiles"): "viewer",
    ("POST", "/campaigns/{campaign_id}/compiles"): "editor",
    ("GET", "/compiles/{compile_id}"): "viewer",
    ("GET", "/compiles/{compile_id}/files/{name:path}"): "viewer_empty",
    ("POST", "/api/campaigns/{campaign_id}/compiles"): "editor",
    ("GET", "/api/campaigns/{campaign_id}/compiles"): "viewer",
    ("GET", "/api/compiles/{compile_id}"): "viewer",
}

# Changes that end the session or remove the first organisation's objects run last, in order.
LAST = [("POST", "/clips/{clip_id}/erase"), ("POST", "/api/clips/{clip_id}/erase"),
        ("POST", "/leaders/{leader_id}/erase"), ("POST", "/api/leaders/{leader_id}/erase"),
        ("POST", "/i/{token}/withdraw"), ("DELETE", "/uploads/{upload_id}"),
        ("POST", "/campaigns/{campaign_id}/invites/{invite_id}/revoke"),
        ("POST", "/api/campaigns/{campaign_id}/invites/{invite_id}/revoke"),
        ("POST", "/leaders/{leader_id}/delete"), ("DELETE", "/api/leaders/{leader_id}"),
        ("POST", "/staff/{user_id}/{action}"), ("POST", "/api/users/{user_id}/deactivate"),
        ("POST", "/api/users/{user_id}/activate"),
        ("POST", "/campaigns/{campaign_id}/delete"), ("DELETE", "/api/campaigns/{campaign_id}"),
        ("POST", "/account/password"), ("POST", "/api/me/password"),
        ("POST", "/logout"), ("POST", "/api/logout")]


TUS_HEADERS = {
    "POST": {"Upload-Length": "4"},
    "PATCH": {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
}
# Routes that destroy what they name get objects of their own.
OWN_OBJECTS = {("DELETE", "/api/leaders/{leader_id}"): {"leader_id": "leader_id_2"},
               ("DELETE", "/api/campaigns/{campaign_id}"): {"campaign_id": "campaign_id_2"},
               ("POST", "/api/clips/{clip_id}/erase"): {"clip_id": "clip_id_2"},
               ("POST", "/api/leaders/{leader_id}/erase"): {"leader_id": "leader_id_3"}}
NAMES = {"/clips/static/{name}": "upload.js", "/renders/static/{name}": "progress.js"}


def app_routes(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app answers (HEAD implied by GET is not listed apart)."""
    found = set()
    for context in iter_route_contexts(app.routes):
        methods = sorted(getattr(context, "methods", None) or [])
        if not methods:  # a mount (static files): it answers GET
            methods = ["GET"]
        for method in methods:
            if method == "HEAD" and "GET" in methods:
                continue
            found.add((method, context.path))
    return found


@dataclass
class World:
    env: StaffEnv
    ids: dict[str, str]
    client: Any
    headers: dict[str, str]
    metadata: str
    email: str


def _sign_in_again(world: World) -> StaffClient:
    client = world.env.client()
    login(client, world.email, PASSWORD)
    with unit_of_work(world.env.settings) as db:  # a deactivated account comes back first
        from sqlalchemy import select

        from service.models import User

        user = db.scalars(select(User).where(User.email == world.email)).one()
        if not user.active:
            user.active = True
            login(client, world.email, PASSWORD)
    return StaffClient(client)


@pytest.fixture(scope="module")
def real_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 1-second video, so the pages that read the clip (preview) work."""
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-pix_fmt",
                    "yuv420p", "-c:v", "libx264", "-c:a", "aac", "-shortest", str(path)],
                   check=True, timeout=60)
    return path


def _world(tmp: Path, role: str, media: Path) -> World:
    env = make_env(tmp, worker_threads=0)  # no background work in a gate test
    editor = env.signed_in("ed@leeds.gov.uk", "editor", "Leeds Council")
    campaign = create_campaign(editor)
    leader = create_leader(editor)
    spare = create_leader(editor, "Pastor Grace", "ur")
    spare_2 = create_leader(editor, "Rabbi Ruth", "ur")
    spare_3 = create_leader(editor, "Father Tomasz", "pl")  # erased through the API
    campaign_2 = create_campaign(editor, title="Second campaign")
    invite = editor.api("POST", f"/api/campaigns/{campaign['id']}/invites",
                        json={"leader_id": leader["id"]}).json()
    token = invite["link"].rsplit("/", 1)[1]
    upload = editor.api("POST", "/uploads/", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": "4",
        "Upload-Metadata": _metadata(campaign_id=campaign["id"], language="ur",
                                     speaker_name="Imam Ahmed", filename="a.mp4",
                                     filetype="video/mp4", consent_method="signed_form",
                                     consent_date="2026-11-30")})
    assert upload.status_code == 201, upload.text
    upload_id = upload.headers["location"].rstrip("/").rsplit("/", 1)[1]
    with unit_of_work(env.settings) as db:
        from service.models import Campaign

        row = db.get(Campaign, campaign["id"])
        clip = service_rows.clip(db, get_store(env.settings), row, media, language="ur")
        clip_2 = service_rows.clip(db, get_store(env.settings), row, media, language="ur")
        compile_row = Compile(id=new_id(), campaign_id=row.id, formats=["landscape"],
                              status="done")
        db.add(compile_row)
        db.flush()
        clip_id, clip_id_2, compile_id = clip.id, clip_2.id, compile_row.id
    ids = {"campaign_id": campaign["id"], "language": "ur", "leader_id": spare["id"],
           "invite_id": invite["id"], "token": token, "upload_id": upload_id,
           "clip_id": clip_id, "compile_id": compile_id, "action": "deactivate",
           "name": "report.json", "name:path": "report.json",
           "leader_id_2": spare_2["id"], "campaign_id_2": campaign_2["id"],
           "report_id": new_id(), "clip_id_2": clip_id_2, "leader_id_3": spare_3["id"]}
    with unit_of_work(env.settings) as db:
        from sqlalchemy import select

        from service.models import User

        ids["user_id"] = db.scalars(select(User).where(User.email == "ed@leeds.gov.uk")).one().id
    headers: dict[str, str] = {}
    email = {"editor": "ed@leeds.gov.uk", "viewer": "viewer@leeds.gov.uk",
             "admin": "admin@leeds.gov.uk", "other_org": "bob@bradford.gov.uk"}.get(role, "")
    if role == "editor":
        client: Any = editor
    elif role in ("viewer", "admin"):
        client = env.signed_in(f"{role}@leeds.gov.uk", role, "Leeds Council")
    elif role == "other_org":
        client = env.signed_in("bob@bradford.gov.uk", "admin", "Bradford Council")
    else:
        client = StaffLike(env.client())
        if role == "invite":
            headers["Chorus-Invite"] = token
            given = client.http.post(f"/i/{token}/consent", data={
                "agree_recording": "yes", "agree_shows_role": "yes", "channels": ["whatsapp"]})
            assert given.status_code == 303, given.text
    if role != "invite":
        ids["token"] = "not-the-token-" + "x" * 30
    if role == "other_org":
        ids["password_reset"] = "x"
    metadata = _metadata(campaign_id=campaign["id"], language="ur", speaker_name="Imam Ahmed",
                         filename="b.mp4", filetype="video/mp4", consent_method="signed_form",
                         consent_date="2026-11-30")
    return World(env, ids, client, headers, metadata, email)


def _metadata(**values: str) -> str:
    import base64

    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


class StaffLike:
    """A caller that is not signed in, with the same ``api`` call as :class:`StaffClient`."""

    def __init__(self, client: TestClient):
        self.http = client

    def api(self, method: str, url: str, **kw: Any) -> Any:
        return self.http.request(method, url, **kw)


def _outcome(response: Any) -> str:
    status = response.status_code
    assert status < 500, f"server error {status}: {response.text[:300]}"
    # A page that needs sign-in sends to /login?next=...; signing out sends to plain /login.
    if status == 401 or (status in (302, 303, 307) and
                         response.headers.get("location", "").startswith("/login?next=")):
        return "login"
    if status == 403:
        return "forbidden"
    if status in (404, 410):
        return "hidden"
    return "in"


def _url(path: str, ids: dict[str, str]) -> str:
    url = path.replace("{name}", NAMES[path]) if path in NAMES else path
    if path == "/leader-fonts/{name}":
        url = "/leader-fonts/" + next(iter(sorted(font_files())), "no-fonts-installed")
    for key, value in ids.items():
        url = url.replace("{" + key + "}", value)
    if "{token}" in url:
        url = url.replace("{token}", ids["token"])
    assert "{" not in url, url
    return url if path != "/static" else "/static/no-such-file.css"


def _ordered(routes: set[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    yield from sorted(r for r in routes if r not in LAST)
    yield from (r for r in LAST if r in routes)


def test_every_route_is_in_the_table(tmp_path, fast_hashing):  # noqa: F811
    routes = app_routes(make_env(tmp_path).app)
    missing, stale = routes - set(TABLE), set(TABLE) - routes
    assert not missing, f"routes with no access rule in TABLE: {sorted(missing)}"
    assert not stale, f"TABLE names routes that do not exist: {sorted(stale)}"
    assert set(TABLE.values()) <= set(RULES)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_caller_as_the_table_says(role, tmp_path, real_clip,
                                                          fast_hashing):  # noqa: F811
    invitations._limiters.clear()
    world = _world(tmp_path, role, real_clip)
    wrong = []
    for method, path in _ordered(app_routes(world.env.app)):
        expected = RULES[TABLE[(method, path)]][role]
        ids = {**world.ids, **{k: world.ids[v] for k, v in
                               OWN_OBJECTS.get((method, path), {}).items()}}
        url = _url(path, ids)
        headers = dict(world.headers)
        if path.startswith("/uploads"):
            headers.update(TUS_HEADERS.get(method, {}), **{"Tus-Resumable": "1.0.0"})
            if method == "POST":
                headers["Upload-Metadata"] = world.metadata
        if ((method, path) in LAST and isinstance(world.client, StaffClient)
                and world.client.get("/api/me").status_code == 401):
            world.client = _sign_in_again(world)  # the change before ended the session
        response = world.client.api(method, url, headers=headers)
        got = _outcome(response)
        if got == "in" and expected == "hidden" and response.status_code == 422:
            # The body was checked before the object was looked up: the gate holds if the
            # answer is the same as for an object that does not exist at all.
            for key in ("campaign_id", "clip_id", "leader_id", "compile_id"):
                url = url.replace(world.ids[key], new_id())
            same = world.client.api(method, url, headers=headers)
            if (same.status_code, same.text) == (response.status_code, response.text):
                got = "hidden"
        if got != expected:
            wrong.append(f"{method} {path}: expected {expected}, got {got} "
                         f"({response.status_code} {response.text[:120]!r})")
    invitations._limiters.clear()
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
