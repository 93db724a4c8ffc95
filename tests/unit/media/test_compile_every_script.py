"""A campaign of 21 clips in 20 scripts compiles with exit 0, through the command line.

Each clip's text has a full stop, a comma, a question mark, a phone number, a date and a
Latin acronym (:mod:`tests.unit.media.every_scripts`); some speakers' names are in their own
script, one with a right-to-left override in it. A clip whose speaker's name no installed
font can draw is a bad clip like any other: ``--skip-bad`` skips it and the report says why;
without ``--skip-bad`` the command lists it and says to skip it or fix it. The Hebrew caption
is read back from a frame of the compiled video. Kept small: one
tiny clip (copied, so it is prepared once), one format (square), no cards.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
from pathlib import Path

import pytesseract
import pytest
import yaml
from PIL import Image

from tests.fixtures.media import decode_frame, ffprobe, make_clip
from tests.unit.media.every_scripts import SAMPLES
from tests.unit.media.test_caption_ocr import _norm
from workers.media.cards import caption_zone_top
from workers.media.compile_cli import run_compile_command
from workers.media.style import FORMATS

pytestmark = pytest.mark.media

SCRIPT = "Stay at home. Call the NHS on 0121-555-0123, by 12/03/2021?"
NAMES = {"he": "הרב שרה כהן", "ar": "عمر", "ur": "\u202eعمران قریشی", "hi": "सुनीता",
         "ka": "ნინო", "zh": "王芳", "ru": "Анна"}
UNDRAWABLE = "\U00010570\U00010571"  # Vithkuqi: no font installed has it


def _args(campaign: Path, out: Path, *, skip_bad: bool) -> argparse.Namespace:
    return argparse.Namespace(campaign=str(campaign), output=str(out), formats=["square"],
                              jobs=2, skip_bad=skip_bad, cache=str(out.parent / "cache"),
                              quiet=True)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("every-script")
    first = make_clip(folder / "clips" / "clip.mp4", size=(428, 240), duration=1.6,
                      speech_text="Stay at home.")
    clips = []
    for n, sample in enumerate([*SAMPLES, SAMPLES[0]]):
        path = folder / "clips" / f"{n:02d}-{sample.language}.mp4"
        if path != first:
            shutil.copyfile(first, path)
        speaker = NAMES.get(sample.language, f"Speaker {sample.language}")
        if n == len(SAMPLES):  # the bad one: a Hebrew clip whose speaker's name cannot be drawn
            speaker = f"Rabbi {UNDRAWABLE}"
        clips.append({"file": f"clips/{path.name}", "language": sample.language,
                      "speaker": speaker, "role": "Community leader, GP", "text": [sample.text]})
    doc = {"title": "Every script", "language": "en", "script": [SCRIPT], "clips": clips}
    path = folder / "campaign.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_every_script_compiles_and_the_undrawable_clip_is_skipped(campaign: Path, capsys):
    out = campaign.parent / "out"
    assert run_compile_command(_args(campaign, out, skip_bad=True)) == 0
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert len(report["clips"]) == len(SAMPLES)
    assert {c["language"] for c in report["clips"]} == {s.language for s in SAMPLES}
    assert all(c["cues"] for c in report["clips"]), "every clip has its caption"
    [skipped] = report["skipped"]
    assert skipped["code"] == "font_missing" and skipped["index"] == len(SAMPLES) + 1
    assert "U+10570" in skipped["message"] and "fonts-unifont" in skipped["message"]
    assert "skip-bad" not in skipped["message"]
    video = ffprobe(out / "video-square.mp4")
    assert float(video["format"]["duration"]) >= len(SAMPLES) * 1.0
    assert "skipped: clip 22" in capsys.readouterr().err
    # The first clip (Hebrew) is at the start of the video: its caption reads back.
    cue = report["clips"][0]["cues"]["square"][0]
    read = _read_caption(out / "video-square.mp4", (cue["start"] + cue["end"]) / 2)
    line = " ".join(cue["native"])
    found = _recall(read, line)
    mirrored = _recall(read, line[::-1])
    print(f"he frame: {found:.2f} of the Hebrew line read back ({mirrored:.2f} reversed)")
    assert found >= 0.65, read  # measured 0.73
    assert found - mirrored >= 0.25, read


def _recall(read: str, expected: str) -> float:
    """Share of ``expected`` found, in order, in ``read`` (which has the translation too)."""
    a, b = _norm(expected), _norm(read)
    blocks = difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks) / max(1, len(a))


def _read_caption(video: Path, at: float) -> str:
    """OCR of the caption zone of one frame: the caption's white text as black on white."""
    rgb, width, height = decode_frame(video, at)
    frame = Image.frombytes("RGB", (width, height), rgb)
    zone = frame.crop((0, caption_zone_top(FORMATS["square"]), width, height))
    ink = Image.eval(zone.convert("L"), lambda v: 0 if v > 190 else 255)
    ink = ink.resize((ink.width // 2, ink.height // 2), Image.Resampling.LANCZOS)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    return str(pytesseract.image_to_string(ink, lang="heb", config="--psm 6"))


def test_without_skip_bad_the_message_names_the_clip_and_the_remedy(campaign: Path, capsys):
    out = campaign.parent / "out-strict"
    assert run_compile_command(_args(campaign, out, skip_bad=False)) == 2
    err = capsys.readouterr().err
    assert "clip 22" in err and "U+10570" in err and "font_missing" in err
    assert "--skip-bad" in err  # and --skip-bad works: the test above


def test_with_skip_bad_and_nothing_good_it_does_not_advise_skip_bad(campaign: Path, capsys):
    doc = yaml.safe_load(campaign.read_text("utf-8"))
    doc["clips"] = doc["clips"][-1:]
    only_bad = campaign.parent / "only-bad.yaml"
    only_bad.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    assert run_compile_command(_args(only_bad, campaign.parent / "out-bad", skip_bad=True)) == 2
    err = capsys.readouterr().err
    assert "U+10570" in err and "--skip-bad" not in err
