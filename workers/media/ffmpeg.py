"""The one gate through which Chorus runs ffmpeg and ffprobe.

Uploaded media is untrusted. ffmpeg will happily follow a URL or a path named inside a file
(an HLS playlist, a concat list, a MOV data reference, the HLS-in-AVI trick), so every call
made here:

* is an argument list (no shell) with ``-nostdin`` and a timeout that kills the process group;
* dies with the process that started it (Linux ``PR_SET_PDEATHSIG``): a worker killed with
  ``kill -9`` leaves no ffmpeg rendering on;
* opens untrusted inputs only after :func:`sniff_container` has recognised the file's own
  magic bytes as MP4/MOV or Matroska/WebM (anything else is refused before ffmpeg sees it);
* passes ``-protocol_whitelist file``, a demuxer ``-format_whitelist`` and, for MOV,
  ``-enable_drefs 0`` so nothing outside the file itself is ever read;
* names inputs with the ``file:`` prefix so a file name can never be taken for a protocol;
* raises :class:`FFmpegError` on failure, whose message says what failed in words; the
  command and the tail of stderr are logged and kept on the error, never put in its message
  (staff pages and reports must not show server paths or command lines).

pydub and moviepy start their own ffmpeg, so they are only ever given intermediates made here.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workers.media.errors import FFmpegError, MediaError, UnsafeInputError
from workers.media.formats import FAMILIES

log = logging.getLogger(__name__)

FFMPEG = os.environ.get("CHORUS_FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("CHORUS_FFPROBE", "ffprobe")

#: Demuxers an uploaded clip may be opened with (matched against ffmpeg's demuxer names).
UNTRUSTED_FORMATS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"

#: ISO BMFF / QuickTime top-level box types that may open a MOV/MP4 file.
_MOV_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"uuid"}
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"

ProgressCallback = Callable[[float], None]
"""Called with the seconds of output written so far."""


@dataclass(frozen=True)
class Container:
    """What the file's own first bytes say it is."""

    family: str  # "mov" or "matroska"


def sniff_container(path: Path) -> Container:
    """Recognise an uploaded file by its magic bytes, or refuse it.

    Only MP4/MOV (ISO BMFF) and Matroska/WebM are accepted: these are what phones and
    browsers record. Text playlists, concat lists, AVI and everything else are refused here,
    before ffmpeg opens the file, so no demuxer that follows references is ever reached.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise MediaError(f"cannot read the file ({exc.strerror})", code="unreadable",
                         subject=str(path)) from exc
    if not head:
        raise MediaError("the file is empty", code="not_media", subject=str(path))
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"#EXTM3U", b"#EXT", b"ffconcat", b"file ", b"<?xml", b"<MPD")):
        raise UnsafeInputError(
            "the file is a playlist or list of other files, not a video; it was not opened",
            subject=str(path),
        )
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        raise UnsafeInputError(
            "AVI files are not accepted (they can smuggle playlists); send MP4, MOV or WebM",
            subject=str(path),
        )
    if head.startswith(_EBML_MAGIC) and "matroska" in FAMILIES:
        return Container("matroska")
    if len(head) >= 8 and head[4:8] in _MOV_BOXES and "mov" in FAMILIES:
        if _mov_has_external_refs(path):
            raise UnsafeInputError(
                "the movie's data references name other files (an external dref); "
                "it was not opened", subject=str(path))
        return Container("mov")
    raise MediaError(
        "not a video file Chorus can read (expected MP4, MOV or WebM)",
        code="not_media",
        subject=str(path),
    )


_DREF_PATH = (b"moov", b"trak", b"mdia", b"minf", b"dinf", b"dref")
_MAX_MOOV = 64 * 1024 * 1024


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """The boxes in ``data`` as (type, payload); stops at the first malformed header."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], "big")
        kind, start = data[pos + 4:pos + 8], pos + 8
        if size == 1 and pos + 16 <= len(data):
            size, start = int.from_bytes(data[pos + 8:pos + 16], "big"), pos + 16
        elif size == 0:
            size = len(data) - pos
        if size < start - pos or pos + size > len(data):
            break
        out.append((kind, data[start:pos + size]))
        pos += size
    return out


#: Boxes that may hold other boxes on the way to a ``dref`` (``meta`` is a full box in MP4,
#: a plain one in QuickTime: both are tried).
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"dinf", b"udta", b"edts", b"mvex",
               b"stbl", b"meta", b"moof", b"traf", b"tref"}


def _drefs(payload: bytes, depth: int = 0) -> list[bytes] | None:
    """Every ``dref`` payload under these boxes; ``None`` if the tree is too deep to trust."""
    if depth > 12:
        return None
    found: list[bytes] = []
    for kind, body in _boxes(payload):
        if kind == b"dref":
            found.append(body)
        elif kind in _CONTAINERS:
            inner = _drefs(body, depth + 1)
            if kind == b"meta":
                full = _drefs(body[4:], depth + 1)
                inner = None if inner is None or full is None else inner + full
            if inner is None:
                return None
            found += inner
    return found


def _only_self_contained(dref: bytes) -> bool:
    """True if every entry of a ``dref`` is a plain ``url `` naming no location at all.

    The "self-contained" flag is not trusted: an entry that names a file or a URL, or is of
    any other kind (``alis``, ``rsrc``, ``urn ``), is an external reference whatever its flags.
    """
    if len(dref) < 8:
        return False
    count = int.from_bytes(dref[4:8], "big")
    entries = _boxes(dref[8:])
    if count != len(entries):
        return False
    for kind, entry in entries:
        if kind != b"url " or len(entry) < 4 or not entry[3] & 1:
            return False
        if entry[4:].strip(b"\x00"):
            return False  # it names a location
    return True


def _external_dref(moov: bytes) -> bool:
    """True if the ``moov`` box refers to data outside the file (or hides where it might).

    Every ``dref`` found in the box tree must be self-contained; and the bytes ``dref`` must
    appear nowhere else in ``moov`` (a reference tucked into a box we do not walk is refused
    rather than missed)."""
    drefs = _drefs(moov)
    if drefs is None:
        return True
    if moov.count(b"dref") != len(drefs):
        return True
    return not all(_only_self_contained(d) for d in drefs)


def _mov_has_external_refs(path: Path) -> bool:
    """Does any track of this MP4/MOV keep its samples in another file (or a URL)?

    ffmpeg's ``-enable_drefs 0`` stops it opening such a file but still lists the track, so
    a clip whose picture or sound lives elsewhere would pass the probe and fail (or worse)
    later: it is refused here, by reading the box headers and the ``moov`` box only.
    """
    with open(path, "rb") as fh:
        size_total = os.fstat(fh.fileno()).st_size
        pos = 0
        while pos + 8 <= size_total:
            fh.seek(pos)
            header = fh.read(16)
            size, kind, start = int.from_bytes(header[:4], "big"), header[4:8], pos + 8
            if size == 1 and len(header) == 16:
                size, start = int.from_bytes(header[8:16], "big"), pos + 16
            elif size == 0:
                size = size_total - pos
            if size < start - pos:
                return False  # malformed; ffmpeg will refuse it on its own
            if kind == b"moov":
                if size > _MAX_MOOV:
                    return True  # refuse rather than read an absurd index
                fh.seek(start)
                if _external_dref(fh.read(size - (start - pos))):
                    return True  # every moov is read: a second one must not hide a ref
            pos += size
    return False


def untrusted_input(path: Path, *, seek: float | None = None,
                    duration: float | None = None) -> list[str]:
    """Arguments that open an uploaded file as one ffmpeg input, safely.

    ``seek``/``duration`` become input options (``-ss``/``-t``) placed before ``-i``.
    """
    container = sniff_container(path)
    args = ["-protocol_whitelist", "file", "-format_whitelist", UNTRUSTED_FORMATS]
    if container.family == "mov":
        args += ["-enable_drefs", "0", "-use_absolute_path", "0"]
    if seek is not None and seek > 0:
        args += ["-ss", f"{seek:.6f}"]
    if duration is not None:
        args += ["-t", f"{duration:.6f}"]
    return [*args, "-i", "file:" + str(Path(path).resolve())]


def trusted_input(path: Path, *, fmt: str | None = None) -> list[str]:
    """Arguments for an intermediate Chorus made itself (PNG, WAV, segment, concat list)."""
    args = ["-protocol_whitelist", "file"]
    if fmt:
        args += ["-f", fmt]
    return [*args, "-i", "file:" + str(Path(path).resolve())]


_PR_SET_PDEATHSIG = 1
_prctl = None
if sys.platform.startswith("linux"):
    try:
        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        _prctl = None


def _die_with(parent: int) -> Callable[[], None]:
    """What the child runs before ``exec``: die (SIGKILL) when ``parent`` dies.

    The child runs in its own session (so a timeout can kill its whole group) and would
    otherwise outlive a worker killed with ``kill -9``. The function called in the child is
    looked up here, in the parent: nothing is loaded between fork and exec. If the parent is
    already gone when the child gets here, it stops at once.
    """
    prctl = _prctl

    def preexec() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def run(
    args: Sequence[str],
    *,
    timeout: float,
    what: str,
    subject: str | None = None,
    progress: ProgressCallback | None = None,
    tool: str = FFMPEG,
    capture_stdout: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg (or ``tool``) with ``args``; raise :class:`FFmpegError` on failure.

    ``what`` says in words what the call was for ("render segment", "measure loudness"), so a
    failure explains itself. With ``progress``, ffmpeg reports its output time and the callback
    receives seconds written so far. stderr goes to a temporary file so a chatty ffmpeg can
    never block on a full pipe.
    """
    binary = shutil.which(tool) or tool
    cmd = [binary, "-hide_banner"]
    if tool == FFMPEG:  # ffprobe knows neither -nostdin nor -nostats (stdin is /dev/null)
        cmd += ["-nostdin", "-nostats", "-loglevel", "info"]
        if progress is not None:
            cmd += ["-progress", "pipe:1"]
    cmd += list(args)
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if (progress or capture_stdout) else subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
                preexec_fn=_die_with(os.getpid()),
            )
        except FileNotFoundError as exc:
            raise MediaError(
                f"{tool} is not installed; install it (Debian: apt-get install ffmpeg)",
                code="ffmpeg_missing",
            ) from exc
        out = b""
        try:
            if progress is not None and proc.stdout is not None:
                _follow_progress(proc, progress, timeout)
                proc.wait(timeout=timeout)
            else:
                out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            proc.wait()
            err.seek(0)
            stderr = err.read().decode("utf-8", "replace")
            _log_failure(what, cmd, stderr, "timed out")
            raise FFmpegError(
                f"{what}: gave up after {timeout:.0f} s",
                cmd=cmd,
                stderr=stderr,
                code="timeout",
                subject=subject,
            ) from exc
        except BaseException:
            _kill_group(proc)
            proc.wait()
            raise
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        _log_failure(what, cmd, stderr, f"exit {proc.returncode}")
        raise FFmpegError(f"{what} failed (exit {proc.returncode})", cmd=cmd, stderr=stderr,
                          returncode=proc.returncode, subject=subject)
    return subprocess.CompletedProcess(cmd, proc.returncode, out or b"", stderr.encode())


def _log_failure(what: str, cmd: list[str], stderr: str, outcome: str) -> None:
    """The command and stderr of a failed call, for operators (logs only)."""
    tail = "\n".join(stderr.strip().splitlines()[-15:])
    log.warning("%s %s\ncommand: %s\nstderr (last lines):\n%s", what, outcome,
                " ".join(cmd), tail)


def _follow_progress(proc: subprocess.Popen[bytes], progress: ProgressCallback,
                     timeout: float) -> None:
    """Read ``-progress pipe:1`` key=value lines and report output seconds."""
    import time

    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for raw in proc.stdout:
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        line = raw.decode("ascii", "replace").strip()
        if line.startswith("out_time_us=") or line.startswith("out_time_ms="):
            value = line.split("=", 1)[1]
            if value.isdigit():
                progress(int(value) / 1_000_000)


def ffprobe_json(path: Path, *, timeout: float = 30, untrusted: bool = True,
                 count_frames: bool = False) -> dict[str, object]:
    """Probe a file with ffprobe and return its JSON (format + streams)."""
    args = ["-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
    if count_frames:
        args += ["-count_packets"]
    inp = untrusted_input(path) if untrusted else trusted_input(path)
    result = run([*args, *inp], timeout=timeout, what="probe", subject=str(path),
                 tool=FFPROBE, capture_stdout=True)
    try:
        data = json.loads(result.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError as exc:
        raise MediaError("ffprobe returned unreadable output", code="unreadable",
                         subject=str(path)) from exc
    if not isinstance(data, dict):
        raise MediaError("ffprobe returned unreadable output", code="unreadable",
                         subject=str(path))
    return data


def require_tools() -> None:
    """Fail early, with what to install, when ffmpeg or ffprobe is missing."""
    missing = [t for t in (FFMPEG, FFPROBE) if shutil.which(t) is None]
    if missing:
        raise MediaError(
            f"{' and '.join(missing)} not found on PATH; install ffmpeg "
            "(Debian/Ubuntu: sudo apt-get install ffmpeg)",
            code="ffmpeg_missing",
        )
