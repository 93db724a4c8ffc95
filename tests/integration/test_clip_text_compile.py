# ruff: noqa: F811  (pytest fixtures imported by name)
"""What staff set is what the video shows, and the preview is the compiled frame.

One Urdu clip in a campaign whose translation line is English. Staff replace the clip's
translation line through ``PUT /api/clips/{id}/text``; the compile (the stages, through the
in-process broker) draws it: Tesseract reads it off a frame of the stored video. The review
page's preview of the same moment is near-identical to that frame (mean absolute difference
and PSNR), far closer than the bare picture without the overlays. The preview endpoint
refuses times that are not seconds, clamps a time past the end, refuses a failed clip with a
message, and keeps a bounded number of stills.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytesseract
import pytest
from PIL import Image, ImageChops, ImageStat

from service import jobs, queue
from service.db import unit_of_work
from service.models import Compile, User
from service.storage import get_store
from tests.fixtures import service_rows as rows
from tests.fixtures.media import make_clip
from tests.fixtures.staff import StaffClient, StaffEnv, env, fast_hashing  # noqa: F401
from workers.media import ffmpeg
from workers.media.style import FORMATS

pytestmark = [pytest.mark.media, pytest.mark.slow]

STAFF_LINE = ["Wash your hands often.", "Keep two metres apart.", "Call one one one."]
AT = 1.2  # seconds into the clip: the first cue and the lower third both show


@pytest.fixture
def compiled(env: StaffEnv, tmp_path: Path) -> Iterator[dict[str, object]]:
    assert shutil.which("tesseract"), "tesseract-ocr is required"
    staff = env.signed_in("ann@leeds.gov.uk", "admin", "Leeds Council")
    source = make_clip(tmp_path / "ur.mp4", size=(640, 360), speech_text="گھر پر رہیں",
                       voice="ur", lead_silence=0.3, tail_silence=1.2)
    store = get_store(env.settings)
    with unit_of_work(env.settings) as s:
        org = s.query(User).filter_by(email="ann@leeds.gov.uk").one().organisation
        camp = rows.campaign(s, org, translation_language="en")
        clip = rows.clip(s, store, camp, source, language="ur", status="ready")
        clip.duration = 4.0
        clip_id, camp_id = clip.id, camp.id
    approved = staff.api("POST", f"/api/clips/{clip_id}/review", json={"action": "approve"})
    assert approved.status_code == 200, approved.text
    changed = staff.api("PUT", f"/api/clips/{clip_id}/text", json={"translation": STAFF_LINE})
    assert changed.status_code == 200, changed.text
    assert changed.json()["translation"] == STAFF_LINE
    queue.set_broker(None)  # the in-process broker, before anything is sent
    with unit_of_work(env.settings) as s:
        comp = Compile(campaign_id=camp_id, formats=["landscape"], status="queued")
        s.add(comp)
        s.flush()
        jobs.enqueue("compile.run", session=s, compile_id=comp.id)
        compile_id = comp.id
    workers = jobs.start_embedded_workers(env.settings, resume=False)
    assert workers is not None
    try:
        deadline = time.monotonic() + 240
        while True:
            with unit_of_work(env.settings) as s:
                row = s.get(Compile, compile_id)
                status, error = row.status, (row.error_code, row.error)
            if status in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.25)
    finally:
        workers.stop()
        queue.set_broker(None)
    assert status == "done", error
    video = tmp_path / "video.mp4"
    store.get_file(f"compiles/{compile_id}/video-landscape.mp4", video)
    frame = tmp_path / "compiled.png"
    ffmpeg.run(["-ss", f"{AT + 0.5 / 30:.4f}", "-i", str(video), "-frames:v", "1", "-y",
                str(frame)], timeout=60, what="test frame")
    yield {"staff": staff, "clip_id": clip_id, "frame": frame, "source": source,
           "tmp": tmp_path, "env": env}


def _lower_half(path: Path) -> Image.Image:
    with Image.open(path) as image:
        grey = image.convert("L")
        return grey.crop((0, grey.height // 2, grey.width, grey.height))


def test_staff_translation_line_is_what_the_compiled_video_shows(compiled) -> None:
    text = pytesseract.image_to_string(_lower_half(compiled["frame"]), lang="eng")
    words = " ".join(text.split()).lower()
    # the cue shows the whole staff line (OCR may misread a word or two, not the whole)
    assert "keep two metres apart" in words and "call one one one" in words, words
    assert "stay at home" not in words  # the campaign's own line was replaced


def _difference(a: Image.Image, b: Image.Image) -> tuple[float, float]:
    """Mean absolute difference (0-255) and PSNR (dB) of two greyscale pictures."""
    diff = ImageChops.difference(a, b)
    mad = ImageStat.Stat(diff).mean[0]
    mse = sum(n * v * v for v, n in enumerate(diff.histogram())) / (a.width * a.height)
    return mad, (99.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse))


def test_preview_draws_what_the_compile_draws(compiled) -> None:
    staff: StaffClient = compiled["staff"]  # type: ignore[assignment]
    response = staff.get(f"/clips/{compiled['clip_id']}/preview.jpg?at={AT}&format=landscape")
    assert response.status_code == 200, response.text
    preview = compiled["tmp"] / "preview.jpg"  # type: ignore[operator]
    preview.write_bytes(response.content)
    bare = compiled["tmp"] / "bare.png"  # type: ignore[operator]
    ffmpeg.run(["-ss", f"{AT:.3f}", "-i", str(compiled["source"]), "-frames:v", "1", "-vf",
                f"scale={FORMATS['landscape'].width}:{FORMATS['landscape'].height}", "-y",
                str(bare)], timeout=60, what="bare frame")
    with Image.open(preview) as p, Image.open(compiled["frame"]) as c, Image.open(bare) as b:
        assert p.size == c.size == (1920, 1080)
        shown, compiled_frame, plain = (i.convert("L") for i in (p, c, b))
        mad, psnr = _difference(shown, compiled_frame)
        band = (0, 1080 * 2 // 3, 1920, 1080)  # the captions and the lower third
        band_mad, _ = _difference(shown.crop(band), compiled_frame.crop(band))
        bare_band, _ = _difference(plain.crop(band), compiled_frame.crop(band))
        # measured: 3.3 / 24 dB overall, 5.6 in the band (text edges after 4:2:0 H.264)
        assert mad < 5.0 and psnr > 22.0, (mad, psnr)
        assert band_mad < 8.0, band_mad
        # the overlays are what makes them alike: without them the picture is far off
        # (measured: 14.5 overall, 24.9 in the band)
        bare_mad, _ = _difference(plain, compiled_frame)
        assert bare_mad > 3 * mad and bare_band > 3 * band_mad, (bare_mad, bare_band)


def test_preview_times_failures_and_cache(compiled, monkeypatch: pytest.MonkeyPatch) -> None:
    staff: StaffClient = compiled["staff"]  # type: ignore[assignment]
    clip_id = compiled["clip_id"]
    for bad in ("nan", "inf", "-1", "-0.5"):
        r = staff.get(f"/clips/{clip_id}/preview.jpg?at={bad}")
        assert r.status_code == 422, (bad, r.status_code)
        assert "seconds" in r.text
    assert staff.get(f"/clips/{clip_id}/preview.jpg?at=1e308").status_code == 200  # clamped
    assert staff.get(f"/clips/{clip_id}/preview.jpg?format=wide").status_code == 422
    env: StaffEnv = compiled["env"]  # type: ignore[assignment]
    folder = Path(env.settings.data_dir) / "work" / "review" / str(clip_id)

    def stills() -> int:
        return len(list(folder.glob("preview-*.jpg")))

    before = stills()  # times within one frame are one still
    assert staff.get(f"/clips/{clip_id}/preview.jpg?at=0.8").status_code == 200
    assert staff.get(f"/clips/{clip_id}/preview.jpg?at=0.801").status_code == 200
    assert stills() == before + 1
    from service.clips import endpoints

    monkeypatch.setattr(endpoints, "PREVIEWS_PER_CLIP", 3)
    for n in range(5):
        at = f"{0.2 + n * 0.1:.1f}"
        assert staff.get(f"/clips/{clip_id}/preview.jpg?at={at}").status_code == 200
    assert stills() == 3
    with unit_of_work(env.settings) as s:
        from service.models import Clip

        row = s.get(Clip, clip_id)
        row.status, row.error_code = "failed", "no_video"
    r = staff.get(f"/clips/{clip_id}/preview.jpg?at=1")
    assert r.status_code == 409 and "no usable picture" in r.text
