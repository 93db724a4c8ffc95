"""Shared pytest fixtures: a session folder for generated media, and tool checks that fail.

A test that needs ffmpeg or espeak-ng and cannot find it FAILS with what to install: a
skipped media test would hide a missing piece of the set-up.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

_PACKAGES = {
    "ffmpeg": "ffmpeg",
    "ffprobe": "ffmpeg",
    "espeak-ng": "espeak-ng",
    "tesseract": "tesseract-ocr (and the language packs, e.g. tesseract-ocr-urd)",
    "sox": "sox",
    "chromium": "chromium",
}


def require_tool_now(tool: str) -> str:
    """Path of ``tool``; fail the current test naming the package to install if missing."""
    found = shutil.which(tool)
    if found is None:
        package = _PACKAGES.get(tool, tool)
        pytest.fail(f"{tool} is not installed: apt-get install {package} "
                    "(infra/scripts/bootstrap.sh installs everything the tests need)",
                    pytrace=False)
    return found


@pytest.fixture(scope="session")
def require_tool() -> Callable[[str], str]:
    """``require_tool("ffmpeg")`` → its path, or the test fails saying what to install."""
    return require_tool_now


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder per test session for generated clips (generate once, share across tests)."""
    require_tool_now("ffmpeg")
    require_tool_now("ffprobe")
    require_tool_now("espeak-ng")
    return tmp_path_factory.mktemp("media")
