"""The events a clue's life produces, built from records and routes. No I/O.

Every clue event's data carries `clue_id`, `service_request_id`, `jurisdiction_code` and
`matter_code`; transitions add `from`, `to`, `by` and `note`; a dispatch adds the squad,
department, deadline (UTC) and distance. Positions are WGS84. Nothing personal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from command_center.auth.model import Principal
from command_center.clues.model import ClueRecord, State
from command_center.dispatch.model import Route, WaitReason
from command_center.realtime.events import PendingEvent, iso_utc


def deadline(route: Route) -> datetime | None:
    """When the chosen squad must have handled the clue; None when nobody was chosen."""
    if route.squad_code is None:
        return None
    return route.due()


def squads(code: str | None) -> tuple[str, ...]:
    return (code,) if code else ()


def location(lon: float, lat: float) -> dict[str, Any]:
    return {"lon": round(lon, 7), "lat": round(lat, 7), "crs": "wgs84"}


def identity(clue_id: int, service_request_id: str, route: Route) -> dict[str, Any]:
    return {
        "clue_id": clue_id,
        "service_request_id": service_request_id,
        "jurisdiction_code": route.jurisdiction_code,
        "matter_code": route.matter_code,
    }


def identity_of(clue: ClueRecord) -> dict[str, Any]:
    return {
        "clue_id": clue.id,
        "service_request_id": clue.service_request_id,
        "jurisdiction_code": clue.jurisdiction_code,
        "matter_code": clue.matter_code,
    }


def about(
    clue: ClueRecord,
    type: str,
    data: dict[str, Any],
    *,
    seen_by: tuple[str, ...] | None = None,
    path: tuple[str, ...] | None = None,
) -> PendingEvent:
    """An event about `clue`: its identity, then `data`. Seen by everyone whose scope
    holds the clue's jurisdiction path (or `path`, where the clue has just moved) and by
    the squads `seen_by` (default: the clue's own squad; `()` for none)."""
    return PendingEvent(
        type=type,
        clue_id=clue.id,
        jurisdiction_path=clue.jurisdiction_path if path is None else path,
        squad_codes=squads(clue.squad_code) if seen_by is None else seen_by,
        data={**identity_of(clue), **data},
    )


def received(
    identity_data: dict[str, Any],
    route: Route,
    *,
    by: Principal,
    channel: str,
    lon: float,
    lat: float,
    description: str,
) -> PendingEvent:
    return PendingEvent(
        type="clue.received",
        clue_id=identity_data["clue_id"],
        jurisdiction_path=route.jurisdiction_path,
        data={
            **identity_data,
            "from": None,
            "to": State.RECEIVED.value,
            "by": by.as_actor(),
            "channel": channel,
            "location": location(lon, lat),
            "description": description,
            "department": route.department,
        },
    )


def dispatched_or_queued(
    identity_data: dict[str, Any],
    route: Route,
    *,
    previous: State,
    by: Principal,
    extra: dict[str, Any],
    previous_squad: str | None = None,
    reason: str | None = None,
    reason_code: WaitReason | None = None,
) -> PendingEvent:
    """`clue.dispatched` when the route chose a squad, else `clue.queued` with the reason
    (`reason`, in words, and `reason_code`; the route's unless given).

    A squad that loses the clue to another is told too (it is in the event's scope).
    """
    due = deadline(route)
    if route.squad_code is None or due is None:
        return PendingEvent(
            type="clue.queued",
            clue_id=identity_data["clue_id"],
            jurisdiction_path=route.jurisdiction_path,
            squad_codes=squads(previous_squad),
            data={
                **identity_data,
                **extra,
                "state": previous.value,
                "reason": reason or route.queue_reason,
                "reason_code": reason_code or route.queue_reason_code,
                "department": route.department,
            },
        )
    scope = squads(route.squad_code)
    if previous_squad and previous_squad != route.squad_code:
        scope += (previous_squad,)
    return PendingEvent(
        type="clue.dispatched",
        clue_id=identity_data["clue_id"],
        jurisdiction_path=route.jurisdiction_path,
        squad_codes=scope,
        data={
            **identity_data,
            **extra,
            "from": previous.value,
            "to": State.DISPATCHED.value,
            "by": by.as_actor(),
            "squad_code": route.squad_code,
            "department": route.department,
            "deadline": iso_utc(due),
            "distance_m": route.distance_m,
            "previous_squad": previous_squad,
            "ranking": route.explanation(),
        },
    )


def transition(clue: ClueRecord, target: State, *, by: Principal, note: str | None) -> PendingEvent:
    return PendingEvent(
        type=f"clue.{target.value}",
        clue_id=clue.id,
        jurisdiction_path=clue.jurisdiction_path,
        squad_codes=squads(clue.squad_code) + clue.assistants,
        data={
            "clue_id": clue.id,
            "service_request_id": clue.service_request_id,
            "jurisdiction_code": clue.jurisdiction_code,
            "matter_code": clue.matter_code,
            "squad_code": clue.squad_code,
            "from": clue.state.value,
            "to": target.value,
            "by": by.as_actor(),
            "note": note,
        },
    )


def on_the_way(clue: ClueRecord) -> dict[str, Any]:
    """What a squad needs with a (re)dispatch: where and what."""
    return {"location": location(clue.lon, clue.lat), "description": clue.description}


def linked(
    identity_data: dict[str, Any],
    jurisdiction_path: tuple[str, ...],
    *,
    by: Principal,
    into: Any,
    reports: int,
    note: str | None,
    squad_codes: tuple[str, ...] = (),
) -> PendingEvent:
    """`clue.duplicate`: this clue repeats `into` (an open clue); operators are told, the
    squad working on `into` is not disturbed (only a squad losing the linked clue is)."""
    return PendingEvent(
        type="clue.duplicate",
        clue_id=identity_data["clue_id"],
        jurisdiction_path=jurisdiction_path,
        squad_codes=squad_codes,
        data={
            **identity_data,
            "to": State.DUPLICATE.value,
            "by": by.as_actor(),
            "duplicate_of": into.id,
            "duplicate_of_service_request_id": into.service_request_id,
            "report_count": reports,
            "note": note,
        },
    )
