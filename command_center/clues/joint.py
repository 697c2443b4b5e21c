"""Joint enforcement (联合执法): a matter that needs several departments goes to a lead
squad and to the best squad of each assisting department. Each assistant accepts and
reports on its own; the clue is handled when the lead reports, with the assistants'
reports attached."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal
from command_center.clues import events as clue_events
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
                    data={**identity, "department": department, "reason": route.queue_reason},
                )
            )
            continue
        await session.execute(
            text(
                "INSERT INTO assignments (clue_id, squad_code, department) VALUES (:c, :s, :d) "
                "ON CONFLICT (clue_id, squad_code) DO UPDATE SET state = 'dispatched', "
                "note = NULL, updated_at = now()"
            ),
            {"c": clue_id, "s": route.squad_code, "d": department},
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
    result = await session.execute(
        text(
            "UPDATE assignments SET state = :after, note = COALESCE(:note, note), "
            "updated_at = now() WHERE clue_id = :c AND squad_code = :s AND state = :before"
        ),
        {"after": after, "before": before, "note": note, "c": clue.id, "s": by.squad},
    )
    if not getattr(result, "rowcount", 0):
        raise Conflict(f"your part of clue {clue.id} is not {before}; cannot {action.value}")
    await outbox.record(
        session,
        [
            PendingEvent(
                type=f"clue.assist_{after}",
                clue_id=clue.id,
                jurisdiction_path=clue.jurisdiction_path,
                squad_codes=clue_events.squads(clue.squad_code) + clue.assistants,
                data={
                    **clue_events.identity_of(clue),
                    "squad_code": by.squad,
                    "lead_squad": clue.squad_code,
                    "note": note,
                    "by": by.as_actor(),
                },
            )
        ],
    )


async def reports(session: AsyncSession, clue_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT squad_code, department, state, note FROM assignments "
            "WHERE clue_id = :c AND state <> 'withdrawn' ORDER BY squad_code"
        ),
        {"c": clue_id},
    )
    return [dict(row._mapping) for row in rows]


async def withdraw(session: AsyncSession, clue_id: int) -> None:
    await session.execute(
        text("UPDATE assignments SET state = 'withdrawn', updated_at = now() WHERE clue_id = :c"),
        {"c": clue_id},
    )
