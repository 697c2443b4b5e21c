"""`/api/v1/clues`: grid-worker intake, scoped reads and life-cycle actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from command_center.auth.dependencies import CurrentPrincipal
from command_center.auth.model import Role
from command_center.clues import service
from command_center.clues.model import State
from command_center.clues.schemas import ActionIn, ClueOut, EventOut, GridReportIn
from command_center.errors import Forbidden
from command_center.privacy import PERSONAL_RESPONSE_HEADERS
from command_center.realtime import service as events_service
from feeds.grid import submission_from_report

router = APIRouter(prefix="/api/v1/clues", tags=["clues"])

REPORTERS = {Role.GRID_WORKER, Role.OPERATOR, Role.ADMIN}


@router.post("", status_code=201, response_model=ClueOut)
async def report_clue(report: GridReportIn, request: Request, by: CurrentPrincipal) -> ClueOut:
    """Report a clue (grid workers, operators). It is dispatched at once, or queued."""
    if by.role not in REPORTERS:
        raise Forbidden("only grid workers, operators and admins report clues here")
    state = request.app.state
    submission = submission_from_report(report)
    async with state.database.transaction() as session:
        result = await service.submit(
            session=session,
            submission=submission,
            by=by,
            zone=state.settings.zone,
            code_prefix=state.settings.public_code_prefix,
        )
        clue = await service.get_scoped(session=session, clue_id=result.clue_id, by=by)
    return ClueOut.of(clue)


@router.get("", response_model=list[ClueOut])
async def list_clues(
    request: Request,
    by: CurrentPrincipal,
    state: Annotated[list[State] | None, Query(description="Filter by state (repeatable)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, description="Page: ids below this")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Search, every state included: a public code, the reporter's phone "
            "ending (8000, ****8000), or words of the description or address (each must occur)",
        ),
    ] = None,
) -> list[ClueOut]:
    """Clues in the caller's scope, newest first. `state=received&state=returned` is the
    operator queue; `q=` searches them (an empty `q` is a 400)."""
    async with request.app.state.database.sessions() as session:
        clues = await service.list_scoped(
            session=session, by=by, states=state or [], limit=limit, before_id=before_id, query=q
        )
    return [ClueOut.of(c) for c in clues]


@router.get("/{clue_id}", response_model=ClueOut)
async def get_clue(clue_id: int, request: Request, by: CurrentPrincipal) -> ClueOut:
    async with request.app.state.database.sessions() as session:
        return ClueOut.of(await service.get_scoped(session=session, clue_id=clue_id, by=by))


@router.get("/{clue_id}/events", response_model=list[EventOut])
async def clue_events(clue_id: int, request: Request, by: CurrentPrincipal) -> list[EventOut]:
    """The clue's record: every event, oldest first (who, when, from, to, note)."""
    async with request.app.state.database.sessions() as session:
        await service.get_scoped(session=session, clue_id=clue_id, by=by)
        events = await events_service.events_for_clue(session=session, clue_id=clue_id)
    return [EventOut.model_validate(e.public()) for e in events]


@router.post("/{clue_id}/actions", response_model=ClueOut)
async def act_on_clue(
    clue_id: int, body: ActionIn, request: Request, by: CurrentPrincipal
) -> ClueOut:
    """Take a life-cycle step. 409 names the current state when the step is not allowed."""
    async with request.app.state.database.transaction() as session:
        clue = await service.act(
            session=session,
            clue_id=clue_id,
            action=body.action,
            by=by,
            note=body.note,
            squad_code=body.squad,
            into=body.into,
            position=body.position(),
        )
    return ClueOut.of(clue)


class ReporterOut(BaseModel):
    name: str | None
    phone: str | None
    email: str | None


@router.get("/{clue_id}/reporter", response_model=ReporterOut)
async def reporter_contact(
    clue_id: int,
    request: Request,
    response: Response,
    by: CurrentPrincipal,
    reason: Annotated[str, Query(min_length=2, max_length=500, description="Why it is needed")],
) -> ReporterOut:
    """The reporter's name, phone and e-mail, unmasked, for operators who must call back.
    Each look is an event in the clue's record; the answer is never cached."""
    async with request.app.state.database.transaction() as session:
        contact = await service.reveal_reporter(
            session=session, clue_id=clue_id, by=by, reason=reason
        )
    response.headers.update(PERSONAL_RESPONSE_HEADERS)
    response.headers["Content-Disposition"] = f'attachment; filename="reporter-{clue_id}.json"'
    return ReporterOut(name=contact.name, phone=contact.phone, email=contact.email)
