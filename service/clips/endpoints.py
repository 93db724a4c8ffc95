"""HTTP routes for clips (staff upload and review)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
