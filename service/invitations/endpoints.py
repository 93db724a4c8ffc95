"""HTTP routes of the leader's link pages (`/i/<token>`)."""

from fastapi import APIRouter

router = APIRouter()
