"""Errors raised by the media library.

Every error that can reach a person carries a stable ``code`` (so the service can translate
it) and an English ``message`` that names the thing and the reason (for the command line and
logs). ``subject`` is the file or clip the error is about.
"""

from __future__ import annotations


class MediaError(Exception):
    """A problem with a piece of media or with the tools that process it."""

    code: str = "media_error"

    def __init__(self, message: str, *, code: str | None = None, subject: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.subject = subject

    def __str__(self) -> str:
        if self.subject:
            return f"{self.subject}: {self.message}"
        return self.message


class UnsafeInputError(MediaError):
    """The file names other files or URLs, or is of a container we refuse to open."""

    code = "unsafe_input"


class FFmpegError(MediaError):
    """ffmpeg or ffprobe failed or timed out; carries the command and the tail of stderr."""

    code = "ffmpeg_failed"

    def __init__(
        self,
        message: str,
        *,
        cmd: list[str],
        stderr: str = "",
        returncode: int | None = None,
        code: str | None = None,
        subject: str | None = None,
    ):
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        full = f"{message}\ncommand: {' '.join(cmd)}"
        if tail:
            full += f"\nstderr (last lines):\n{tail}"
        super().__init__(full, code=code, subject=subject)
        self.cmd = cmd
        self.stderr = stderr
        self.returncode = returncode


class FontError(MediaError):
    """No font or shaping engine can draw a language's text correctly."""

    code = "font_missing"
