"""The campaign board, as a page and as JSON."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from service.board.service import Board, campaign_board
from service.campaigns.endpoints import load_campaign
from service.web.deps import DbSession, ViewerUser
from service.web.templating import render

router = APIRouter()


class BoardLeaderOut(BaseModel):
    leader_id: str | None
    name: str
    role: str
    invite_id: str | None
    invite_state: str
    opened_at: datetime | None
    clips: int
    approved: int
    rejected: int
    latest_clip_status: str | None


class BoardLanguageOut(BaseModel):
    language: str
    label: str
    translations_total: int
    translations_approved: int
    translation_ready: bool
    invited: int
    opened: int
    recorded: int
    approved: int
    nobody: bool
    leaders: list[BoardLeaderOut]


class BoardOut(BaseModel):
    campaign_id: str
    languages: list[BoardLanguageOut]
    uncovered: list[str]


def board_out(board: Board) -> BoardOut:
    return BoardOut(
        campaign_id=board.campaign_id,
        uncovered=board.uncovered,
        languages=[
            BoardLanguageOut(
                language=row.language, label=row.label,
                translations_total=row.translations_total,
                translations_approved=row.translations_approved,
                translation_ready=row.translation_ready, invited=row.invited,
                opened=row.opened, recorded=row.recorded, approved=row.approved,
                nobody=row.nobody,
                leaders=[BoardLeaderOut(**vars(leader)) for leader in row.leaders],
            )
            for row in board.languages
        ],
    )


@router.get("/campaigns/{campaign_id}/board", include_in_schema=False)
def board_page(request: Request, campaign_id: str, db: DbSession, user: ViewerUser) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    return render(request, "board/board.html",
                  {"campaign": campaign, "board": campaign_board(db, campaign)})


@router.get("/api/campaigns/{campaign_id}/board", response_model=BoardOut, tags=["board"],
            summary="Per language: invited, opened, recorded, approved; languages with nobody")
def board_api(campaign_id: str, db: DbSession, user: ViewerUser) -> BoardOut:
    campaign = load_campaign(db, user, campaign_id)
    return board_out(campaign_board(db, campaign))
