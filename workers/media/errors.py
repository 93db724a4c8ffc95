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
    """ffmpeg or ffprobe failed or timed out.

    The message says what failed in words only; the command and stderr are kept on the error
    (``cmd``, ``stderr``, :meth:`details`) and logged by the wrapper, because messages reach
    staff pages and reports, which must show neither server paths nor command lines.
    """

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
        super().__init__(message, code=code, subject=subject)
        self.cmd = cmd
        self.stderr = stderr
        self.returncode = returncode

    def details(self) -> str:
        """The command and the tail of stderr (for logs and a developer's terminal)."""
        tail = "\n".join(self.stderr.strip().splitlines()[-15:])
        out = f"command: {' '.join(self.cmd)}"
        return f"{out}\nstderr (last lines):\n{tail}" if tail else out


class FontError(MediaError):
    """No font or shaping engine can draw a language's text correctly."""

    code = "font_missing"
