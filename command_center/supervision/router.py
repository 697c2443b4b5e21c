"""Supervision endpoints: holds and extensions, disputes, rework evidence, documents and
the warnings an operator's wall shows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from command_center.auth.dependencies import CurrentPrincipal
from command_center.auth.model import Role
from command_center.clues import disputes, requests
from command_center.clues import service as clues_service
from command_center.clues.schemas import ClueOut
from command_center.dependencies import AppSettings, Now, ReadSession, Transaction
from command_center.errors import Forbidden
from command_center.evidence import service as evidence_service
from command_center.evidence.model import Kind, NewEvidence
from command_center.supervision import service as supervision_service
from command_center.supervision import warnings as warnings_service
from feeds.photos import check_photo

router = APIRouter(prefix="/api/v1", tags=["supervision"])


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["hold", "extension"]
    hours: int | None = Field(default=None, ge=1, le=24 * 90)
    note: str = Field(min_length=1, max_length=2000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    note: str | None = Field(default=None, max_length=2000)


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["uphold", "reassign"]
    department: str | None = Field(default=None, max_length=100)
    note: str = Field(min_length=1, max_length=2000)


@router.post("/clues/{clue_id}/requests", status_code=201)
async def ask(
    clue_id: int, body: RequestIn, session: Transaction, by: CurrentPrincipal
) -> dict[str, int]:
    """The assigned squad asks for a hold (挂账) or an extension (延期, with `hours`)."""
    request_id = await requests.ask(
        session=session, clue_id=clue_id, kind=body.kind, hours=body.hours, note=body.note, by=by
    )
    return {"id": request_id}


@router.post("/clues/{clue_id}/requests/{request_id}/decision", status_code=204)
async def decide(
    clue_id: int,
    request_id: int,
    body: DecisionIn,
    session: Transaction,
    now: Now,
    by: CurrentPrincipal,
) -> None:
    """A supervisor approves or refuses."""
    await requests.decide(
        session=session,
        clue_id=clue_id,
        request_id=request_id,
        approve=body.approve,
        note=body.note,
        by=by,
        now=now,
    )


@router.post("/clues/{clue_id}/resume", status_code=204)
async def resume(clue_id: int, session: Transaction, now: Now, by: CurrentPrincipal) -> None:
    """End a hold; the deadline moves by the time spent on hold."""
    await requests.resume(session=session, clue_id=clue_id, by=by, now=now)


@router.post("/clues/{clue_id}/dispute", response_model=ClueOut)
async def dispute(
    clue_id: int, body: DisputeIn, session: Transaction, by: CurrentPrincipal
) -> ClueOut:
    """Decide a returned clue: uphold (back to the squad) or reassign to a department."""
    clue = await disputes.decide(
        session=session,
        clue_id=clue_id,
        decision=body.decision,
        department=body.department,
        note=body.note,
        by=by,
    )
    return ClueOut.of(clue)


@router.post("/clues/{clue_id}/evidence", status_code=201)
async def add_photo(
    clue_id: int,
    request: Request,
    now: Now,
    by: CurrentPrincipal,
    photo: UploadFile,
    note: Annotated[str | None, Form(max_length=1000)] = None,
) -> dict[str, Any]:
    """A photo from the scene (before/after) by the assigned squad, a grid worker or an
    operator; kept with its hash, its public copy without EXIF."""
    state = request.app.state
    content = await photo.read(state.settings.photo_max_bytes + 1)
    checked = check_photo(content, label="photo", max_bytes=state.settings.photo_max_bytes)
    async with state.database.transaction() as session:
        clue = await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
        if by.role not in (Role.SQUAD, Role.GRID_WORKER, Role.OPERATOR, Role.ADMIN):
            raise Forbidden(f"the {by.role.value} role may not add evidence")
        item = await evidence_service.attach(
            session=session,
            store=state.media,
            clue=clue,
            item=NewEvidence(
                clue_id=clue.id,
                kind=Kind.PHOTO,
                media_type=checked.media_type,
                content=checked.original,
                public_content=checked.public_copy,
                added_by=by.as_actor(),
                note=note,
                taken_at=now,
            ),
        )
    return {"id": item.id, "sha256": item.sha256}


@router.get("/clues/{clue_id}/documents")
async def documents(
    clue_id: int, session: ReadSession, by: CurrentPrincipal
) -> list[dict[str, Any]]:
    """Reminder letters, supervision orders and escalation notices issued for the clue."""
    await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
    return await supervision_service.documents(session=session, clue_id=clue_id)


@router.get("/warnings")
async def warnings(
    session: ReadSession, settings: AppSettings, now: Now, by: CurrentPrincipal
) -> list[dict[str, Any]]:
    """Overdue, due soon, unaccepted, returned twice, reopened, squads without a position."""
    if by.role not in (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("warnings are for operators and supervisors")
    return await warnings_service.current(
        session,
        now=now,
        jurisdiction=by.jurisdiction,
        max_position_age_s=settings.position_max_age_seconds,
    )


@router.get("/disputes/by-department")
async def disputes_by_department(
    session: ReadSession, by: CurrentPrincipal
) -> list[dict[str, Any]]:
    """Decided disputes per department: upheld and reassigned, from the event log."""
    if by.role not in (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("dispute counts are for operators and supervisors")
    return await warnings_service.disputes_by_department(session, jurisdiction=by.jurisdiction)
