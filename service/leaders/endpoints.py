"""HTTP routes (pages and JSON API) for leaders."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
