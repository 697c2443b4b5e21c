"""Linking and splitting duplicates by hand (合并/拆分). Intake links automatically
(see service.submit); here an operator corrects it. Both run in the caller's transaction
with the clue's row locked."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal
from command_center.clues import events as clue_events
from command_center.clues import repository, steps
from command_center.clues.model import WORK_DONE_STATES, ClueRecord, State
from command_center.clues.repository import Change
from command_center.dispatch import service as dispatch_service
from command_center.errors import Conflict, Forbidden, InvalidInput, NotFound


async def link(
    session: AsyncSession, clue: ClueRecord, *, into: int, by: Principal, note: str | None
) -> None:
    """Make `clue` a duplicate of clue `into`, which must be open work the caller can see.

    Duplicates of `clue` follow it to `into`; `into` counts their reports.
    """
    if into == clue.id:
        raise InvalidInput("a clue cannot be linked to itself")
    target = await repository.get(session, into, for_update=True)
    if target is None:
        raise NotFound(f"no clue {into}")
    if not by.sees_clue(
        jurisdiction_path=target.jurisdiction_path,
        squad_codes=clue_events.squads(target.squad_code),
    ):
        raise Forbidden(f"clue {into} is outside your scope")
    if target.state in WORK_DONE_STATES:
        raise Conflict(f"clue {into} is {target.state.value}; link to an open clue")
    moved = await repository.move_duplicates(session, from_id=clue.id, to_id=target.id)
    reports = await repository.add_reports(session, target.id, clue.report_count)
    change = Change(State.DUPLICATE, None, None, None, clue.status_note, duplicate_of=target.id)
    event = clue_events.linked(
        clue_events.identity_of(clue),
        clue.jurisdiction_path,
        by=by,
        into=target,
        reports=reports,
        note=note,
        squad_codes=clue_events.squads(clue.squad_code),
    )
    event.data["moved_duplicates"] = moved
    await steps.apply(session, clue.id, change, [event])


async def unlink(
    session: AsyncSession, clue: ClueRecord, *, by: Principal, note: str | None
) -> None:
    """Split a duplicate off: it becomes its own clue and is dispatched like a new one."""
    if clue.duplicate_of is not None:
        await repository.add_reports(session, clue.duplicate_of, -clue.report_count)
    route = await dispatch_service.route(
        session=session, lon=clue.lon, lat=clue.lat, matter_code=clue.matter_code
    )
    back = clue_events.transition(clue, State.RECEIVED, by=by, note=note)
    follow = clue_events.dispatched_or_queued(
        clue_events.identity_of(clue),
        route,
        previous=State.RECEIVED,
        by=by,
        extra=clue_events.on_the_way(clue),
    )
    change = Change.after_routing(route, waiting=State.RECEIVED, status_note=clue.status_note)
    await steps.apply(session, clue.id, change, [back, follow], route=route)
