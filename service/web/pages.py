"""Small pages that belong to no domain: the home redirect, health check, API docs page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from service.web.templating import render

router = APIRouter()


@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse("/campaigns", status_code=303)


@router.get("/healthz", tags=["meta"], summary="Liveness check")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/docs", include_in_schema=False)
def api_docs(request: Request) -> Response:
    """The OpenAPI description as a plain page (no third-party scripts, CSP-friendly)."""
    schema: dict[str, Any] = request.app.openapi()
    operations = []
    for path, methods in sorted(schema.get("paths", {}).items()):
        for method, op in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tags": op.get("tags", []),
                    "parameters": [p.get("name") for p in op.get("parameters", [])],
                    "body": "requestBody" in op,
                }
            )
    return render(request, "api_docs.html", {"operations": operations, "info": schema["info"]})
