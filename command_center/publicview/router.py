"""`POST /api/v1/clues/{id}/moderation`: what the public sees of a clue."""

from __future__ import annotations

from fastapi import APIRouter, Request

from command_center.auth.dependencies import CurrentPrincipal
from command_center.clues.schemas import ClueOut
from command_center.publicview import service
from command_center.publicview.schemas import ModerationIn

router = APIRouter(tags=["clues"])


@router.post("/api/v1/clues/{clue_id}/moderation", response_model=ClueOut)
async def moderate_clue(
    clue_id: int, body: ModerationIn, request: Request, by: CurrentPrincipal
) -> ClueOut:
    """Hide a clue from the public views or write the text they show instead of the
    description (operators, supervisors, admins in scope); recorded in the clue's events."""
    async with request.app.state.database.transaction() as session:
        clue = await service.moderate(
            session=session,
            clue_id=clue_id,
            by=by,
            hidden=body.hidden,
            public_description=body.public_description,
            reason=body.reason,
        )
    return ClueOut.of(clue)
