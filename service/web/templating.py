"""The one Jinja2 environment for every page (staff and leader side).

Use :func:`render` (or ``templates.TemplateResponse(request, name, context)``) from any
endpoint. Templates get ``_``/``gettext``/``ngettext`` (staff pages are English for now but
wrapped for translation; the leader side installs its own translations through
``request.state.gettext`` if set), ``csrf_token`` (the current staff session's token, or the
sign-in form's token) and ``user`` (the signed-in staff member or None).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


def _identity(message: str, **variables: Any) -> str:
    return message % variables if variables else message


def _nidentity(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = singular if n == 1 else plural
    variables.setdefault("num", n)
    return text % variables


def _request_context(request: Request) -> dict[str, Any]:
    """Values every template may use, taken from the request state set by deps/middleware."""
    state = request.state
    gettext: Callable[..., str] = getattr(state, "gettext", _identity)
    ngettext: Callable[..., str] = getattr(state, "ngettext", _nidentity)
    return {
        "_": gettext,
        "gettext": gettext,
        "ngettext": ngettext,
        "csrf_token": getattr(state, "csrf_token", ""),
        "user": getattr(state, "user", None),
        "page_lang": getattr(state, "page_lang", "en"),
        "page_dir": getattr(state, "page_dir", "ltr"),
    }


templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[_request_context])
templates.env.globals["static"] = lambda path: f"/static/{path}"


def isolate(value: object) -> str:
    """``value`` between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE (U+2068/U+2069).

    For places where ``<bdi>`` cannot go (``<option>``, ``<title>``): a right-to-left name
    then cannot reorder the text around it. Elsewhere templates use ``<bdi>`` around names.
    """
    return f"\u2068{value}\u2069"


templates.env.filters["isolate"] = isolate


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render template ``name`` as an HTML response."""
    return templates.TemplateResponse(
        request, name, dict(context or {}), status_code=status_code, headers=dict(headers or {})
    )
