"""A worker stand-in for the kill -9 test: starts as a worker does, then renders with ffmpeg.

``python -m tests.integration.ffmpeg_child start`` prepares the process exactly as a worker
does on start (``prepare_process``: its own temp folder, dead processes' scratch removed) and
exits. ``... render MARKER`` then also opens a work folder through the stage helper, writes an
anonymous temporary file, and runs a long ffmpeg render through the one wrapper, printing
``rendering`` once ffmpeg has begun. Settings come from CHORUS_* variables.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from service.settings import get_settings
from workers.media import ffmpeg
from workers.media.workdirs import prepare_process
from workers.stages.common import scratch


def main(argv: list[str]) -> int:
    settings = get_settings()
    prepare_process(Path(settings.data_dir) / "work")
    if argv[1] == "start":
        print("started", flush=True)
        return 0
    marker = argv[2]
    with scratch(settings, "clips", marker) as folder, \
            tempfile.NamedTemporaryFile(prefix="chorus-test-") as tmp:
        tmp.write(b"partial")
        tmp.flush()
        (folder / "partial.wav").write_bytes(b"RIFF")
        print("rendering", flush=True)
        ffmpeg.run(["-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-t", "600",
                    "-c:v", "mpeg4", "-y", str(folder / f"{marker}.mp4")],
                   timeout=600, what="render a long segment")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
