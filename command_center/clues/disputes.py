"""Disputes (争议处置): a squad returned a clue as not its responsibility; the operator
decides. `uphold` sends it back to the same squad; `reassign` hands it to another
department, whose best squad gets it. Every decision is an event, counted per department
by the statistics."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal, Role
from command_center.clues import events as clue_events
from command_center.clues import repository, steps
from command_center.clues import service as clue_service
from command_center.clues.model import Action, ClueRecord, State, next_state
from command_center.clues.repository import Change
from command_center.dispatch import service as dispatch_service
from command_center.errors import Forbidden, InvalidInput
from command_center.squads import service as squads_service

DECISIONS = ("uphold", "reassign")


async def decide(
    *,
    session: AsyncSession,
    clue_id: int,
    decision: str,
    department: str | None,
    note: str,
    by: Principal,
) -> ClueRecord:
    if by.role not in (Role.OPERATOR, Role.ADMIN):
        raise Forbidden("disputes are decided by an operator")
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}")
    if not note.strip():
        raise InvalidInput("say why in `note`")
    clue = await clue_service.lock(session=session, clue_id=clue_id)
    if not by.sees_clue(jurisdiction_path=clue.jurisdiction_path, squad_codes=()):
        raise Forbidden(f"clue {clue_id} is outside your scope")
    next_state(clue.state, Action.DISPATCH)
    if clue.state is not State.RETURNED:
        raise InvalidInput(f"clue {clue_id} is {clue.state.value}, not returned: no dispute")
    returned_by = clue.squad_code
    if decision == "uphold":
        route = await dispatch_service.route(
            session=session, lon=clue.lon, lat=clue.lat, matter_code=clue.matter_code
        )
        route = replace(route, squad_code=returned_by, department=clue.department)
        to_department = clue.department
    else:
        if not department or department == clue.department:
            raise InvalidInput("reassign needs `department`, another department than the clue's")
        if not await squads_service.department_exists(session=session, department=department):
            raise InvalidInput(f"no squad belongs to department {department!r}")
        route = await dispatch_service.route(
            session=session,
            lon=clue.lon,
            lat=clue.lat,
            matter_code=clue.matter_code,
            department=department,
        )
        to_department = department
        await repository.set_department(session, clue.id, department)
    ident = clue_events.identity_of(clue)
    decided = clue_events.about(
        clue,
        "clue.dispute_decided",
        {
            "decision": decision,
            "from_department": clue.department,
            "to_department": to_department,
            "returned_by": returned_by,
            "note": note.strip(),
            "by": by.as_actor(),
        },
        seen_by=clue_events.squads(returned_by),
    )
    follow = clue_events.dispatched_or_queued(
        ident,
        route,
        previous=State.RETURNED,
        by=by,
        previous_squad=returned_by,
        extra={"note": note.strip(), **clue_events.on_the_way(clue)},
    )
    change = Change.after_routing(route, waiting=State.RETURNED, status_note=clue.status_note)
    await steps.apply(session, clue.id, change, [decided, follow], route=route)
    return await clue_service.get_scoped(session=session, clue_id=clue.id, by=by)
