"""`/api/v1/clues/{id}/notifications`: the clue's alert record."""

from __future__ import annotations

from fastapi import APIRouter, Request

from command_center.alerts import service
from command_center.alerts.schemas import AttemptOut
from command_center.auth.dependencies import CurrentPrincipal
from command_center.clues import service as clues_service

router = APIRouter(prefix="/api/v1/clues", tags=["clues"])


@router.get("/{clue_id}/notifications", response_model=list[AttemptOut])
async def clue_notifications(
    clue_id: int, request: Request, by: CurrentPrincipal
) -> list[AttemptOut]:
    """Every alert of the clue, oldest first: to whom (masked), on which channel, for
    which step, when, and how it went (with the gateway's delivery report). Who sees
    the clue sees this."""
    async with request.app.state.database.sessions() as session:
        await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
        attempts = await service.attempts_for_clue(session, clue_id=clue_id)
    return [AttemptOut.of(a) for a in attempts]
