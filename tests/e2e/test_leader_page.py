"""The leader's link in real Chromium: Urdu (RTL) and Polish (LTR) pages, consent, recording
with a fake camera and microphone fed from files, resumable upload, and what got stored.

Chromium is Debian's (/usr/bin/chromium) driven by Playwright for Python; no browser download.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from service.db import dispose_engines, unit_of_work
from service.models import Clip, Consent, Invite, TusUpload
from service.storage.local import LocalStore
from tests.conftest import require_tool_now
from tests.fixtures.browser import chromium_with_fake_devices
from tests.integration.leader_env import Server, running_server
from workers.media import ffmpeg
from workers.media.probe import probe

pytestmark = pytest.mark.slow

#: Stop recording when the page's own clock shows 0:03 (Latin or Arabic-Indic digits), not
#: after a fixed wait: on a busy machine the recorder may start late.
RECORD_UNTIL = re.compile(r":[0٠۰][3٣۳]$")
#: A generous bound per browser step for a machine kept busy by other work.
STEP_MS = 60_000

URDU_SPEECH = ("اس سردی میں فلو کی ویکسین لگوائیں۔ "
               "پینسٹھ سال سے زیادہ عمر کے لوگوں کے لیے یہ مفت ہے۔")


@pytest.fixture(scope="module")
def fake_devices(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A Y4M camera picture (ffmpeg lavfi) and a PCM WAV voice (espeak-ng, Urdu)."""
    require_tool_now("ffmpeg")
    espeak = require_tool_now("espeak-ng")
    folder = tmp_path_factory.mktemp("devices")
    cam = folder / "cam.y4m"
    ffmpeg.run(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=15:duration=4",
                "-pix_fmt", "yuv420p", "-y", str(cam)], timeout=60, what="make fake camera")
    mic = folder / "mic.wav"
    subprocess.run([espeak, "-v", "ur", "-s", "140", "-w", str(mic), URDU_SPEECH],
                   check=True, timeout=60)
    return cam, mic


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("leader-e2e")) as srv:
        yield srv
    dispose_engines()


@pytest.fixture(scope="module")
def browser(fake_devices: tuple[Path, Path]) -> Iterator[object]:
    with chromium_with_fake_devices(*fake_devices) as b:
        yield b


def _ink_columns(png: Path) -> tuple[int, int, int]:
    """Leftmost and rightmost column holding dark (text) pixels, and the image width."""
    image = Image.open(png).convert("L")
    width, height = image.size
    pixels = image.load()
    dark = [x for x in range(width) if any(pixels[x, y] < 110 for y in range(height))]
    assert dark, f"no text found in {png}"
    return dark[0], dark[-1], width


def _open_page(browser: object, url: str, tmp: Path, name: str) -> tuple[object, object]:
    context = browser.new_context(viewport={"width": 412, "height": 900},  # type: ignore[attr-defined]
                                  device_scale_factor=1, locale="en-GB")
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    response = page.goto(url)
    assert response is not None and response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in response.headers["cache-control"]
    assert "noindex" in response.headers["x-robots-tag"]
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(tmp / f"{name}.png"), full_page=True)
    page.locator("h1").screenshot(path=str(tmp / f"{name}-h1.png"))
    page._chorus_errors = errors  # type: ignore[attr-defined]
    return context, page


def _loaded_families(page: object) -> set[str]:
    return set(page.evaluate(  # type: ignore[attr-defined]
        "() => { const s = []; document.fonts.forEach(f => { if (f.status === 'loaded') "
        "s.push(f.family.replace(/\"/g, '')); }); return s; }"))


def test_polish_page_is_left_to_right_in_noto_sans(browser: object, server: Server,
                                                   tmp_path: Path) -> None:
    url = f"{server.url}/i/{server.seed.invites['pl']}"
    context, page = _open_page(browser, url, tmp_path, "pl")
    try:
        assert page.evaluate("document.documentElement.lang") == "pl"
        assert page.evaluate("document.documentElement.dir") == "ltr"
        assert page.evaluate("getComputedStyle(document.body).direction") == "ltr"
        family = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
        assert family.startswith('"Noto Sans"'), family
        assert "Noto Sans" in _loaded_families(page)
        assert page.locator("h1").inner_text().startswith("Dzień dobry")
        left, right, width = _ink_columns(tmp_path / "pl-h1.png")
        # Text starts at the left edge; the free space is on the right.
        assert left < width * 0.05 and (width - 1 - right) > left + 10, (left, right, width)
        assert page.locator("meta[name=robots]").get_attribute("content").startswith("noindex")
    finally:
        context.close()


def test_urdu_leader_consents_records_and_uploads(browser: object, server: Server,
                                                  tmp_path: Path) -> None:
    token = server.seed.invites["ur"]
    context, page = _open_page(browser, f"{server.url}/i/{token}", tmp_path, "ur")
    try:
        # Right to left, in Nastaliq, with the text block against the right edge.
        assert page.evaluate("document.documentElement.lang") == "ur"
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        family = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
        assert family.startswith('"Noto Nastaliq Urdu"'), family
        assert "Noto Nastaliq Urdu" in _loaded_families(page)
        assert page.evaluate("getComputedStyle(document.querySelector('h1')).textAlign") in (
            "start", "right")
        left, right, width = _ink_columns(tmp_path / "ur-h1.png")
        # Text starts at the right edge; the free space is on the left.
        assert (width - 1 - right) < width * 0.05 and left > (width - 1 - right) + 10, (
            left, right, width)
        prompt = page.locator(".prompt")
        assert prompt.get_attribute("dir") == "rtl"
        assert "فلو کی ویکسین" in prompt.inner_text()
        # Machine-translated consent wording: the English is shown beside it.
        assert page.locator("#consent .english").count() >= 3

        page.check("#agree_recording")
        page.check("#agree_shows_role")
        page.check("#channel-facebook")
        page.check("#channel-whatsapp")
        page.click("form.consent button[type=submit]")
        page.wait_for_url("**/record?lang=ur")

        page.click("#btn-camera")
        page.wait_for_selector("#btn-start:not([hidden])")
        page.click("#btn-start")
        expect(page.locator("#elapsed")).to_have_text(RECORD_UNTIL, timeout=STEP_MS)
        page.click("#btn-stop")
        page.wait_for_selector("#btn-send:not([hidden])")
        page.screenshot(path=str(tmp_path / "ur-recorded.png"))
        page.click("#btn-send")
        page.wait_for_url("**/thanks?lang=ur", timeout=2 * STEP_MS)
        assert page.locator("h1").inner_text() == "شکریہ!"
        assert not page._chorus_errors, page._chorus_errors  # type: ignore[attr-defined]
    finally:
        context.close()

    settings = server.seed.settings
    with unit_of_work(settings) as session:
        invite = session.get(Invite, server.seed.invite_ids["ur"])
        assert invite is not None and invite.opened_at is not None
        clip = session.scalar(select(Clip).where(Clip.invite_id == invite.id))
        assert clip is not None and clip.status in ("received", "probing", "ready")
        assert clip.language == "ur" and clip.source == "recorded"
        consent = session.scalar(select(Consent).where(Consent.clip_id == clip.id))
        assert consent is not None
        assert consent.channels == ["facebook", "whatsapp"]
        assert consent.shows_role_agreed and consent.withdrawn_at is None
        assert consent.wording_language == "ur" and consent.wording_version
        assert "English wording shown" in consent.note
        upload = session.scalar(select(TusUpload).where(TusUpload.object_key == clip.original_key))
        assert upload is not None
        client_sha = upload.metadata_.get("sha256")
        original_key, original_sha = clip.original_key, clip.original_sha256

    stored = tmp_path / "original"
    LocalStore(settings.storage_root).get_file(original_key, stored)
    digest = hashlib.sha256(stored.read_bytes()).hexdigest()
    assert digest == original_sha == client_sha, "browser, server and store agree on SHA-256"
    info = probe(stored)
    assert info.video is not None and info.audio is not None
    assert info.video.height <= 1080
    assert 2.0 < info.duration < 6.0, info.duration
