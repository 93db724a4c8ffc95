"""A campaign of 21 clips in 20 scripts compiles with exit 0, through the command line.

Each clip's text has a full stop, a comma, a question mark, a phone number, a date and a
Latin acronym (:mod:`tests.unit.media.every_scripts`); some speakers' names are in their own
script, one with a right-to-left override in it. A clip whose speaker's name no installed
font can draw is a bad clip like any other: ``--skip-bad`` skips it and the report says why;
without ``--skip-bad`` the command lists it and says to skip it or fix it. Kept small: one
tiny clip (copied, so it is prepared once), one format (square), no cards.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.fixtures.media import ffprobe, make_clip
from tests.unit.media.every_scripts import SAMPLES
from workers.media.compile_cli import run_compile_command

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
    first = make_clip(folder / "clips" / "clip.mp4", size=(320, 180), duration=1.6,
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
