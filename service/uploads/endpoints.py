"""HTTP routes of the tus upload server (`/uploads/`)."""

from fastapi import APIRouter

router = APIRouter()
