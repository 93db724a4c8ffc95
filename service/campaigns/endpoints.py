"""HTTP routes (pages and JSON API) for campaigns."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
