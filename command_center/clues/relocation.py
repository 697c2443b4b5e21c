"""Fixing a waiting clue's position (定位确认): an operator puts the pin where the problem
is, and the clue is routed again at once, as a new clue at that place would be — an
address-only clue that waited "confirm the location, then dispatch" is dispatched. Runs
in the caller's transaction with the clue's row locked."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal
from command_center.clues import events as clue_events
from command_center.clues import joint, repository, timing
from command_center.clues.model import ClueRecord, Position, State
from command_center.clues.repository import Change
from command_center.dispatch import service as dispatch_service
from command_center.errors import Forbidden, OutsideArea
from command_center.realtime import outbox
from command_center.realtime.events import PendingEvent


async def relocate(
    session: AsyncSession,
    clue: ClueRecord,
    *,
    to: Position,
    waiting: State,
    by: Principal,
    note: str | None,
) -> None:
    """Move `clue` to `to` and route it again: dispatched to the best squad there (with
    assisting squads for a joint matter), or left `waiting` with the new reason.

    Raises InvalidInput (bad coordinates), OutsideArea (no jurisdiction there) and
    Forbidden (the new place is outside the caller's scope) before anything is written.
    """
    lon, lat = to.wgs84()
    route = await dispatch_service.route(
        session=session, lon=lon, lat=lat, matter_code=clue.matter_code
    )
    if route.jurisdiction_code is None or route.department is None:
        raise OutsideArea(
            f"the location lat {lat:.6f}, long {lon:.6f} (WGS84) "
            "is outside every jurisdiction we serve"
        )
    if not by.sees_clue(jurisdiction_path=route.jurisdiction_path, squad_codes=()):
        raise Forbidden(f"the new position lies in {route.jurisdiction_code}, outside your scope")
    await repository.relocate(
        session,
        clue.id,
        lon=lon,
        lat=lat,
        submitted_crs=to.crs,
        jurisdiction_code=route.jurisdiction_code,
        jurisdiction_path=route.jurisdiction_path,
        department=route.department,
    )
    ident = clue_events.identity(clue.id, clue.service_request_id, route)
    moved = _relocated(clue, ident, route.jurisdiction_path, lon=lon, lat=lat, by=by, note=note)
    on_the_way = {"location": clue_events.location(lon, lat), "description": clue.description}
    follow = clue_events.dispatched_or_queued(
        ident,
        route,
        previous=waiting,
        by=by,
        previous_squad=clue.squad_code,
        extra={"note": note, **on_the_way},
    )
    change = Change.after_routing(route, waiting=waiting, status_note=clue.status_note)
    await repository.update(session, clue.id, change)
    assisting: list[PendingEvent] = []
    if change.state is State.DISPATCHED and route.joint_departments and not clue.assistants:
        assisting = await joint.dispatch_assistants(
            session,
            clue_id=clue.id,
            identity=ident,
            lead=route,
            lon=lon,
            lat=lat,
            by=by,
            extra=on_the_way,
        )
    await outbox.record(session, [moved, follow, *assisting])
    if change.state is State.DISPATCHED:
        await timing.on_dispatched(session, clue.id, route)


def _relocated(
    clue: ClueRecord,
    ident: dict[str, object],
    path: tuple[str, ...],
    *,
    lon: float,
    lat: float,
    by: Principal,
    note: str | None,
) -> PendingEvent:
    """`clue.relocated`: the old and the new position (WGS84) and jurisdiction. Seen in
    the new place; the old one is inside the caller's scope, who moved it."""
    return PendingEvent(
        type="clue.relocated",
        clue_id=clue.id,
        jurisdiction_path=path,
        squad_codes=clue_events.squads(clue.squad_code),
        data={
            **ident,
            "previous_location": clue_events.location(clue.lon, clue.lat),
            "location": clue_events.location(lon, lat),
            "previous_jurisdiction_code": clue.jurisdiction_code,
            "address": clue.address,
            "state": clue.state.value,
            "by": by.as_actor(),
            "note": note,
        },
    )
