"""Joint enforcement (联合执法): a matter that needs several departments goes to a lead
squad and to the best squad of each assisting department. Each assistant accepts and
reports on its own; the clue is handled when the lead reports, with the assistants'
reports attached."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal
from command_center.clues import events as clue_events
from command_center.clues import repository
from command_center.clues.model import Action, ClueRecord
from command_center.dispatch import service as dispatch_service
from command_center.dispatch.model import Route
from command_center.errors import Conflict, InvalidInput
from command_center.realtime import outbox
from command_center.realtime.events import PendingEvent, iso_utc

ASSIST_STEPS = {Action.ACCEPT: ("dispatched", "accepted"), Action.HANDLE: ("accepted", "reported")}


async def dispatch_assistants(
    session: AsyncSession,
    *,
    clue_id: int,
    identity: dict[str, Any],
    lead: Route,
    lon: float,
    lat: float,
    by: Principal,
    extra: dict[str, Any],
) -> list[PendingEvent]:
    """One assisting squad per other department the matter names; events for each."""
    events = []
    for department in lead.joint_departments:
        if department == lead.department:
            continue
        route = await dispatch_service.route(
            session=session,
            lon=lon,
            lat=lat,
            matter_code=str(lead.matter_code),
            department=department,
            now=lead.now,
        )
        if route.squad_code is None:
            events.append(
                PendingEvent(
                    type="clue.assist_unavailable",
                    clue_id=clue_id,
                    jurisdiction_path=lead.jurisdiction_path,
                    data={
                        **identity,
                        "department": department,
                        "reason": route.queue_reason,
                        "reason_code": route.queue_reason_code,
                    },
                )
            )
            continue
        await repository.assign(
            session, clue_id, squad_code=route.squad_code, department=department
        )
        due = clue_events.deadline(lead)
        events.append(
            PendingEvent(
                type="clue.assist_dispatched",
                clue_id=clue_id,
                jurisdiction_path=lead.jurisdiction_path,
                squad_codes=(route.squad_code,),
                data={
                    **identity,
                    **extra,
                    "squad_code": route.squad_code,
                    "department": department,
                    "lead_squad": lead.squad_code,
                    "deadline": iso_utc(due) if due else None,
                    "by": by.as_actor(),
                    "ranking": route.explanation(),
                },
            )
        )
    return events


async def assist(
    session: AsyncSession, clue: ClueRecord, *, action: Action, by: Principal, note: str | None
) -> None:
    """An assisting squad accepts, or reports (handle) its part."""
    if action not in ASSIST_STEPS:
        raise InvalidInput("an assisting squad may accept and handle (report) only")
    before, after = ASSIST_STEPS[action]
    moved = await repository.advance_assignment(
        session, clue.id, squad_code=str(by.squad), before=before, after=after, note=note
    )
    if not moved:
        raise Conflict(f"your part of clue {clue.id} is not {before}; cannot {action.value}")
    await outbox.record(
        session,
        [
            clue_events.about(
                clue,
                f"clue.assist_{after}",
                {
                    "squad_code": by.squad,
                    "lead_squad": clue.squad_code,
                    "note": note,
                    "by": by.as_actor(),
                },
                seen_by=clue_events.squads(clue.squad_code) + clue.assistants,
            )
        ],
    )


async def reports(session: AsyncSession, clue_id: int) -> list[dict[str, Any]]:
    return await repository.assignments(session, clue_id)


async def withdraw(session: AsyncSession, clue_id: int) -> None:
    await repository.withdraw_assignments(session, clue_id)
