"""Serve the page fonts from the system's Noto fonts (no CDN, nothing copied into git).

`infra/scripts/bootstrap.sh` installs fonts-noto-core/-extra (Debian), so on a clean machine
after bootstrap every font named in locales/languages.json is under /usr/share/fonts. Only
files named there are served (an allow-list: no path from the request reaches the disk).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from service.i18n import languages

FONT_DIRS: tuple[str, ...] = ("/usr/share/fonts", "/usr/local/share/fonts")
FONT_DIRS_ENV = "CHORUS_FONT_DIRS"


def _dirs() -> list[str]:
    extra = [d for d in os.environ.get(FONT_DIRS_ENV, "").split(os.pathsep) if d]
    return [*extra, *FONT_DIRS]


@functools.cache
def font_files() -> dict[str, Path]:
    """Allowed font file name → its path on this machine (missing ones are left out)."""
    wanted = {lang.font_file for lang in languages().values()}
    wanted |= {name.replace("-Regular", "-Bold") for name in wanted}
    found: dict[str, Path] = {}
    for root in _dirs():
        for folder, _subdirs, files in os.walk(root):
            for name in files:
                if name in wanted and name not in found:
                    found[name] = Path(folder) / name
    return found


def missing_fonts() -> list[str]:
    """Regular font files languages.json names that this machine lacks (for a startup check)."""
    have = font_files()
    return sorted({lang.font_file for lang in languages().values()} - set(have))
