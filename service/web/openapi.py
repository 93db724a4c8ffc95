"""The OpenAPI document tells the truth about errors: every API route declares the error
answers it can give, with the body the app really sends (``{"detail", "code"}``, plus
``errors`` for validation), instead of FastAPI's default 422 shape that Chorus never sends.

Schemathesis checks the whole document against the running app in CI
(tests/integration/test_schemathesis.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error answer of the API."""

    detail: str = Field(description="what went wrong, for a person")
    code: str = Field(description="a stable code for programs")
    errors: list[FieldError] | None = Field(
        default=None, description="with code 'invalid': each field that was refused")


ERRORS: dict[int, str] = {
    400: "The request is malformed.",
    401: "Not signed in (or the session ended).",
    403: "Not allowed: the role is too low, the CSRF token is missing, or the request came "
         "from another site.",
    404: "No such object in your organisation.",
    409: "The object is not in a state that allows this.",
    412: "A precondition (such as the tus version) was not met.",
    413: "The request body is too large.",
    415: "The content type is not accepted.",
    422: "The request was understood but a value was refused; the message names it.",
    429: "Too many attempts; wait and try again.",
}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in ERRORS.items()
}
"""Given to every router at ``include_router``; a route's own declaration wins."""


def _header(description: str, kind: str = "string", required: bool = False) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": kind}}


_TUS_RESUMABLE = _header("the tus protocol version (1.0.0)", required=True)
TUS_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    200: {"description": "The upload's state (HEAD).", "headers": {
        "Tus-Resumable": _TUS_RESUMABLE,
        "Upload-Offset": _header("bytes received so far", "integer", required=True),
        "Upload-Length": _header("the upload's total size in bytes", "integer"),
        "Upload-Metadata": _header("the metadata given at creation (tus encoding)"),
        "Upload-Expires": _header("when an unfinished upload is discarded (HTTP date)"),
    }},
    201: {"description": "The upload was created; send its bytes to Location.", "headers": {
        "Tus-Resumable": _TUS_RESUMABLE,
        "Location": _header("the upload's URL", required=True),
        "Upload-Expires": _header("when an unfinished upload is discarded (HTTP date)"),
    }},
    204: {"description": "Bytes were stored (PATCH) or the upload was ended (DELETE).",
          "headers": {
              "Tus-Resumable": _TUS_RESUMABLE,
              "Upload-Offset": _header("bytes received so far (PATCH)", "integer"),
              "Upload-Expires": _header("when an unfinished upload is discarded"),
          }},
}
"""The tus server's answers and headers (tus 1.0.0 core, creation, expiration, termination),
given to its router at ``include_router``."""
