"""Untrusted input: files that name other files are refused, and nothing they name is opened.

The file a bad input points at is a FIFO watched by a thread that opens it for writing: that
open only returns once some process opens the FIFO for reading, so *any* attempt to read the
target (by ffprobe, ffmpeg or our own code) is seen, however brief. Positive controls show
that an unprotected ffprobe does open it, so the fixtures are real exploit shapes.
"""

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from tests.fixtures import media
from workers.media import ffmpeg
from workers.media.errors import FFmpegError, MediaError, UnsafeInputError
from workers.media.probe import probe


class FifoWatch:
    """Notices whether anything opens ``path`` (a FIFO) for reading."""

    def __init__(self, path: Path):
        self.path = path
        os.mkfifo(path)
        self.opened = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._wait, daemon=True)
        self._thread.start()

    def _wait(self) -> None:
        while True:
            fd = os.open(self.path, os.O_WRONLY)  # blocks until a reader opens the FIFO
            if self._closing:
                os.close(fd)
                return
            self.opened.set()
            os.close(fd)  # the reader sees end of file; wait for the next open

    def close(self) -> bool:
        """Stop watching; True if something opened the FIFO meanwhile."""
        self._closing = True
        if self._thread.is_alive():
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)  # releases the writer
            self._thread.join(timeout=5)
            os.close(fd)
        return self.opened.is_set()


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[FifoWatch]:
    folder = tmp_path / "secret"
    folder.mkdir()
    watch = FifoWatch(folder / "canary.mp4")
    yield watch
    watch.close()


BAD: dict[str, tuple[Callable[..., Path], type[MediaError], str]] = {
    "hls_playlist": (media.hls_playlist, UnsafeInputError, "playlist"),
    "concat_list": (media.concat_list, UnsafeInputError, "list of other files"),
    "hls_in_avi": (media.hls_in_avi, UnsafeInputError, "AVI"),
    "mov_external_dref": (media.mov_with_external_dref, UnsafeInputError, "data references"),
}


@pytest.mark.media
@pytest.mark.parametrize("kind", list(BAD))
def test_reference_files_are_refused_and_nothing_is_read(tmp_path: Path, canary: FifoWatch,
                                                          kind: str) -> None:
    make, error, words = BAD[kind]
    path = make(tmp_path / f"{kind}.mp4", canary.path)  # the name lies: it says .mp4
    with pytest.raises(error) as info:
        probe(path)
    assert info.value.code == "unsafe_input"
    assert info.value.subject == str(path) and str(path) in str(info.value)
    assert words in str(info.value)
    with pytest.raises(error):  # every way in goes through the same check
        ffmpeg.untrusted_input(path)
    with pytest.raises(error):
        ffmpeg.ffprobe_json(path)
    time.sleep(0.2)
    assert not canary.close(), f"{kind}: the file it names was opened"


@pytest.mark.media
@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("hls_playlist", ["-protocol_whitelist", "file", "-f", "hls"]),
        ("concat_list", ["-safe", "0", "-f", "concat"]),
        ("mov_external_dref", ["-enable_drefs", "1"]),  # a relative alias: no more needed
    ],
)
def test_positive_control_unprotected_ffprobe_follows_the_reference(
        tmp_path: Path, canary: FifoWatch, kind: str, args: list[str]) -> None:
    """Without the wrapper's rules ffprobe opens the target: the fixtures are real threats."""
    make = BAD[kind][0]
    path = make(tmp_path / f"{kind}.mp4", canary.path)
    subprocess.run(["ffprobe", "-v", "quiet", *args, "-i", str(path)], timeout=20,
                   stdin=subprocess.DEVNULL, capture_output=True, check=False)
    assert canary.opened.wait(5), f"{kind}: unprotected ffprobe did not follow the reference"


@pytest.mark.media
def test_mov_with_self_contained_dref_is_accepted(media_dir: Path) -> None:
    """Ordinary MOV/MP4 files have a self-contained data reference and pass the check."""
    path = media.make_clip(media_dir / "safety-ok.mov", container="mov", silent=True,
                           duration=1.2)
    assert probe(path).video is not None


@pytest.mark.media
def test_not_media(tmp_path: Path) -> None:
    path = media.not_media(tmp_path / "message.mp4")
    with pytest.raises(MediaError) as info:
        probe(path)
    assert info.value.code == "not_media"
    assert str(path) in str(info.value) and "not a video" in str(info.value)


@pytest.mark.media
def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.webm"
    path.write_bytes(b"")
    with pytest.raises(MediaError) as info:
        probe(path)
    assert info.value.code == "not_media" and str(path) in str(info.value)


@pytest.mark.media
def test_truncated_mp4(tmp_path: Path) -> None:
    path = media.truncated(tmp_path / "half.mp4")
    with pytest.raises(MediaError) as info:
        probe(path)
    assert info.value.code == "unreadable"
    assert str(path) in str(info.value) and "damaged" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.mp4"
    with pytest.raises(MediaError) as info:
        probe(path)
    assert info.value.code == "unreadable" and str(path) in str(info.value)


@pytest.mark.media
def test_file_name_cannot_be_a_protocol(tmp_path: Path, canary: FifoWatch) -> None:
    """A file literally named like a URL is opened as a local file, never as a protocol."""
    weird = tmp_path / "concat:x.mp4"
    media.make_clip(weird, silent=True, duration=1.2)
    args = ffmpeg.untrusted_input(weird)
    assert args[-1] == "file:" + str(weird.resolve())
    assert probe(weird).duration == pytest.approx(1.2, abs=0.05)
    assert not canary.close()


@pytest.mark.media
def test_timeout_kills_ffmpeg() -> None:
    me = psutil.Process()
    start = time.monotonic()
    with pytest.raises(FFmpegError) as info:
        ffmpeg.run(["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=600",
                    "-f", "null", "-"], timeout=1, what="endless job")
    elapsed = time.monotonic() - start
    assert info.value.code == "timeout"
    assert "endless job" in str(info.value) and "gave up after 1 s" in str(info.value)
    assert elapsed < 5
    time.sleep(0.2)
    leftovers = [p for p in me.children(recursive=True) if "ffmpeg" in p.name()]
    assert leftovers == []


@pytest.mark.media
def test_timeout_with_progress_kills_ffmpeg() -> None:
    seen: list[float] = []
    start = time.monotonic()
    with pytest.raises(FFmpegError) as info:
        ffmpeg.run(["-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=600",
                    "-f", "null", "-"], timeout=1.5, what="slow job", progress=seen.append)
    assert info.value.code == "timeout"
    assert time.monotonic() - start < 5


def test_a_failure_message_shows_no_command_line(tmp_path: Path) -> None:
    """Messages reach staff pages and reports: the command and stderr stay in the log."""
    out = tmp_path / "deep" / "server" / "folder" / "out.mp4"
    with pytest.raises(FFmpegError) as info:
        ffmpeg.run(["-f", "lavfi", "-i", "nosuchsource", str(out)], timeout=30,
                   what="render segment")
    message = info.value.message
    assert message.startswith("render segment failed")
    assert "command" not in message and str(out) not in message and "lavfi" not in message
    assert "nosuchsource" in info.value.details()
