"""Use cases of the consoles' read models, scoped by the caller's token."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal, Role
from command_center.auth.scope import Scope
from command_center.auth.scope import scope_of as scope_within
from command_center.clues.model import ClueRecord
from command_center.console import repository
from command_center.console.model import BBox, cell_size, level_rank, simplify_degrees, start_of_day
from command_center.console.schemas import (
    CandidateOut,
    ClusterOut,
    LonLat,
    MapClueOut,
    MapCluesOut,
    MapSquadOut,
    SquadPositionOut,
)
from command_center.dispatch import service as dispatch_service
from command_center.errors import Forbidden

STAFF = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
DESK = frozenset({Role.OPERATOR, Role.ADMIN})


def scope_of(by: Principal) -> Scope:
    """What the map shows a principal: everyone who reads clues has it (auth.scope)."""
    return scope_within(by, refusal=f"the {by.role.value} role has no map")


async def map_clues(
    *,
    session: AsyncSession,
    by: Principal,
    bbox: BBox,
    zoom: int,
    now: datetime,
    zone: ZoneInfo,
    max_points: int,
) -> MapCluesOut:
    """The clues of a viewport, aggregated on the zoom's grid, or one by one when there
    are at most `max_points` of them."""
    scope = scope_of(by)
    dlon, dlat = cell_size(zoom, bbox.mid_lat)
    since = start_of_day(now, zone)
    cells = await repository.clusters(
        session, scope=scope, bbox=bbox, dlon=dlon, dlat=dlat, since=since, now=now
    )
    by_state: dict[str, int] = {}
    for cell in cells:
        for state, n in cell["by_state"].items():
            by_state[state] = by_state.get(state, 0) + int(n)
    total = sum(int(c["count"]) for c in cells)
    points = []
    if total <= max_points:
        rows = await repository.points(
            session, scope=scope, bbox=bbox, since=since, now=now, limit=max_points
        )
        points = [MapClueOut.model_validate(row) for row in rows]
    return MapCluesOut(
        mode="points" if total <= max_points else "clusters",
        zoom=zoom,
        total=total,
        by_state=by_state,
        overdue=sum(int(c["overdue"]) for c in cells),
        since=since,
        cell=(dlon, dlat),
        clusters=[] if total <= max_points else [_cluster(c) for c in cells],
        points=points,
    )


def _cluster(cell: dict[str, Any]) -> ClusterOut:
    west, south, east, north = cell["west"], cell["south"], cell["east"], cell["north"]
    return ClusterOut(  # the centroid, kept inside the cell's clues after rounding
        lon=min(max(round(float(cell["lon"]), 6), west), east),
        lat=min(max(round(float(cell["lat"]), 6), south), north),
        count=int(cell["count"]),
        by_state={k: int(v) for k, v in cell["by_state"].items()},
        overdue=int(cell["overdue"]),
        bounds=(west, south, east, north),
    )


async def squads(
    *,
    session: AsyncSession,
    by: Principal,
    now: datetime,
    zone: ZoneInfo,
    max_position_age_s: float,
) -> list[MapSquadOut]:
    """Squads in scope, on duty or not at `now`, with their live (or base) position and
    workload."""
    rows = await repository.squads(
        session,
        scope=scope_of(by),
        now=now,
        zone=zone.key,
        max_position_age_s=max_position_age_s,
    )
    return [
        MapSquadOut(
            code=row["code"],
            name=row["name"],
            department=row["department"],
            on_duty=row["on_duty"],
            base=LonLat(lon=row["base_lon"], lat=row["base_lat"]),
            position=SquadPositionOut(
                lon=row["lon"], lat=row["lat"], at=row["at"], device_id=row["device_id"]
            )
            if row["device_id"]
            else None,
            open_clues=int(row["open_clues"]),
            devices=list(row["devices"]),
            jurisdictions=list(row["jurisdictions"]),
        )
        for row in rows
    ]


async def jurisdictions(
    *,
    session: AsyncSession,
    scope: Scope,
    max_level: str,
    tolerance_m: float,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946, WGS84) of the jurisdictions in scope down to
    `max_level`, simplified within `tolerance_m`, with the collection's `bbox`."""
    rows = await repository.jurisdictions(
        session,
        scope=scope,
        max_rank=level_rank(max_level),
        tolerance_deg=simplify_degrees(tolerance_m),
    )
    features = [
        {
            "type": "Feature",
            "id": row["code"],
            "geometry": row["geometry"],
            "properties": {
                "code": row["code"],
                "name": row["name"],
                "level": row["level"],
                "parent_code": row["parent_code"],
                "label": [round(row["label_lon"], 6), round(row["label_lat"], 6)],
            },
        }
        for row in rows
    ]
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if rows:
        collection["bbox"] = [
            min(r["west"] for r in rows),
            min(r["south"] for r in rows),
            max(r["east"] for r in rows),
            max(r["north"] for r in rows),
        ]
    return collection


async def candidates(
    *, session: AsyncSession, by: Principal, clue: ClueRecord, department: str | None
) -> list[CandidateOut]:
    """The squads that could take `clue` (of its department, or of `department` for a
    dispute), ranked as automatic dispatch ranks them, then the ineligible ones."""
    if by.role not in STAFF:
        raise Forbidden("suggested squads are for operators, supervisors and admins")
    found = await dispatch_service.suggest(
        session=session,
        lon=clue.lon,
        lat=clue.lat,
        matter_code=clue.matter_code,
        department=department or clue.department,
    )
    names = await repository.squad_names(session, [c["squad_code"] for c in found])
    return [
        CandidateOut(
            **c,
            name=names.get(c["squad_code"], (c["squad_code"], ""))[0],
            department=names.get(c["squad_code"], ("", ""))[1],
        )
        for c in found
    ]
