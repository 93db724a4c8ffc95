"""HTTP routes (pages and JSON API) for board."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
