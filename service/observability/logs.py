"""Structured logs: one JSON object per line, with the ids of the job being worked on.

Why JSON lines: with several web and worker processes on several machines, logs are only
useful once collected and searched (Loki, Elasticsearch, CloudWatch, ``jq``), and a search for
one clip must find every line about it. So every line has ``timestamp`` (UTC, ISO 8601),
``level``, ``logger`` and ``message``, plus the ids a stage passes:

    log.info("segment rendered", extra={"clip_id": clip.id, "compile_id": compile.id})

or binds once for a whole block (every line inside carries them, in any module):

    with log_context(job_id=message_id, compile_id=compile_id):
        run_compile(...)

No line carries an invite token or a client address: :class:`RedactFilter` on Chorus's
handler rewrites every record (uvicorn's access log included) before it is formatted, and
the formatters redact exception text the same way. A leaked log must not open anyone's link.

``configure_logging(settings)`` is called once at the start of ``chorus serve`` and
``chorus worker``. The settings ``log_level`` (``CHORUS_LOG_LEVEL``, default INFO) and
``log_format`` (``CHORUS_LOG_FORMAT``: ``json``, the default, or ``text`` for a person at a
terminal) tune it.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from service.settings import Settings

CONTEXT_FIELDS = ("job_id", "clip_id", "compile_id", "campaign_id", "stage", "actor", "attempt")
"""Ids that are always placed right after the message, when present."""

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "chorus_log_context", default=None
)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName",
}


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (e.g. ``job_id=``, ``clip_id=``) to every log line in this block.

    Context variables follow threads' and tasks' own context, so two stages running on two
    worker threads never see each other's ids.
    """
    current = _context.get() or {}
    token = _context.set({**current, **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


_TOKEN_PATH = re.compile(r"(/(?:i|password-reset)/)[A-Za-z0-9_-]{8,}")
_TOKEN_QUERY = re.compile(r"([?&;](?:token|invite|reset)=)[^&;\s\"']+", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with invite/reset tokens in link paths and query strings replaced."""
    if "/" not in text and "=" not in text:
        return text
    return _TOKEN_QUERY.sub(r"\1" + REDACTED, _TOKEN_PATH.sub(r"\1" + REDACTED, text))


class RedactFilter(logging.Filter):
    """Removes tokens from every record's message, and the client address from access lines.

    Uvicorn's access record is ``'%s - "%s %s HTTP/%s" %d'`` with the client ``host:port``
    first; that address is personal data and is replaced by ``-``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and args:
            record.args = ("-", *args[1:])
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: keep it as it is
            return True
        record.msg, record.args = redact(message), ()
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line (never raises on an odd ``extra`` value)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extras = {**(_context.get() or {}),
                  **{k: v for k, v in vars(record).items() if k not in _RESERVED}}
        for key in CONTEXT_FIELDS:
            if key in extras:
                data[key] = extras.pop(key)
        for key, value in sorted(extras.items()):
            if not key.startswith("_") and key not in data:
                data[key] = value
        if record.exc_info:
            data["exception"] = redact(
                "".join(traceback.format_exception(*record.exc_info)).rstrip())
        elif record.exc_text:
            data["exception"] = redact(record.exc_text)
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For people at a terminal: the usual line, with the context ids appended."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        fields = {**(_context.get() or {}),
                  **{k: v for k, v in vars(record).items() if k in CONTEXT_FIELDS}}
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line


_HANDLER_NAME = "chorus"


def configure_logging(
    settings: Settings | None = None,
    *,
    level: str | int | None = None,
    fmt: str | None = None,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send every log record (root logger, uvicorn, dramatiq) to ``stream`` as JSON lines.

    Idempotent: calling it again replaces Chorus's handler instead of adding a second one.
    Uvicorn installs its own handlers unless started with ``log_config=None``; its loggers
    are made to propagate here either way. Returns the handler (tests read its stream).
    """
    settings = settings if settings is not None else Settings()
    level = level if level is not None else settings.log_level
    fmt = (fmt or settings.log_format).lower()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
