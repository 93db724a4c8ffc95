"""Web helpers for the clips and renders domains: templates, own static files, ranged reads.

The domains keep their templates beside their code (``service/<domain>/templates``) and extend
the site's ``base.html``: one Jinja environment searches the domain folders first, then the
site's. Their few static scripts are served from the domain folder by a route (same origin,
so the CSP ``script-src 'self'`` holds; no inline script).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import Request
from fastapi.responses import FileResponse
from fastapi.templating import Jinja2Templates
from starlette.responses import Response, StreamingResponse

from service.storage import ObjectNotFoundError, ObjectStore
from service.web import templating as site
from service.web.errors import NotFound, WebError

DOMAIN_TEMPLATES = [
    Path(__file__).resolve().parent / "templates",
    Path(__file__).resolve().parent.parent / "renders" / "templates",
]
STATIC_DIRS = {
    "clips": Path(__file__).resolve().parent / "static",
    "renders": Path(__file__).resolve().parent.parent / "renders" / "static",
}
CHUNK = 256 * 1024

templates = Jinja2Templates(
    directory=[*DOMAIN_TEMPLATES, site.TEMPLATES_DIR],
    context_processors=[site._request_context],
)
templates.env.globals.update(site.templates.env.globals)
templates.env.filters.update(site.templates.env.filters)


def render(request: Request, name: str, context: Mapping[str, Any] | None = None,
           status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, name, dict(context or {}),
                                      status_code=status_code)


def static_file(domain: str, name: str) -> FileResponse:
    """One of the domain's static scripts (only plain names, only .js/.css)."""
    if not re.fullmatch(r"[a-z0-9_-]+\.(js|css)", name):
        raise NotFound("No such file.")
    path = STATIC_DIRS[domain] / name
    if not path.is_file():
        raise NotFound("No such file.")
    media = "text/javascript" if name.endswith(".js") else "text/css"
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-cache"})


_RANGE = re.compile(r"\Abytes=(\d*)-(\d*)\Z")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single byte range ``(first, last)`` inclusive, ``None`` for the whole object.

    Raises :class:`WebError` 416 for a range that cannot be satisfied. Several ranges in one
    header are answered with the whole object (allowed by RFC 9110).
    """
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if not m:
        return None
    first_s, last_s = m.groups()
    if not first_s and not last_s:
        return None
    if not first_s:  # suffix: the last N bytes
        length = int(last_s)
        if length == 0:
            raise WebError("Range not satisfiable.", code="bad_range", status_code=416)
        return max(0, size - length), size - 1
    first = int(first_s)
    last = min(int(last_s), size - 1) if last_s else size - 1
    if first >= size or last < first:
        raise WebError("Range not satisfiable.", code="bad_range", status_code=416)
    return first, last


def _read_range(stream: BinaryIO, first: int, length: int) -> Iterator[bytes]:
    try:
        if first:
            if stream.seekable():
                stream.seek(first)
            else:
                skip = first
                while skip > 0:
                    got = stream.read(min(CHUNK, skip))
                    if not got:
                        return
                    skip -= len(got)
        left = length
        while left > 0:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        stream.close()


def stream_object(store: ObjectStore, key: str, content_type: str, request: Request, *,
                  download_name: str | None = None) -> Response:
    """Stream a stored object with Range support (video players seek with it)."""
    try:
        size = store.size(key)
    except ObjectNotFoundError:
        raise NotFound("The file is not in storage.") from None
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store",
               "X-Content-Type-Options": "nosniff"}
    if download_name:
        safe = re.sub(r"[^\w.\-]", "_", download_name)
        headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    wanted = parse_range(request.headers.get("range"), size)
    if request.method == "HEAD":
        headers["Content-Length"] = str(size)
        return Response(status_code=200, headers=headers, media_type=content_type)
    if wanted is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(_read_range(store.open(key), 0, size), media_type=content_type,
                                 headers=headers)
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(last - first + 1)
    return StreamingResponse(_read_range(store.open(key), first, last - first + 1),
                             status_code=206, media_type=content_type, headers=headers)
