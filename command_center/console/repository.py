"""The only SQL of the consoles' read models: clues aggregated on a grid, clues one by one
in a viewport, squads with positions and workload, jurisdictions as GeoJSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.scope import Scope, clue_filter
from command_center.console.model import OPEN_STATES, WORKING_STATES, BBox
from command_center.squads.on_duty_sql import ON_DUTY_NOW, ROSTER_TODAY

ON_MAP = """
    c.location && ST_MakeEnvelope(:west, :south, :east, :north, 4326)
    AND (c.state = ANY(:open_states) OR (c.state = 'closed' AND c.closed_at >= :since))
"""
OVERDUE = """
    (c.state = ANY(:working) AND c.on_hold_since IS NULL AND c.deadline < :now)
"""


def _viewport(bbox: BBox, since: datetime, now: datetime) -> dict[str, Any]:
    return {
        "west": bbox.west,
        "south": bbox.south,
        "east": bbox.east,
        "north": bbox.north,
        "open_states": list(OPEN_STATES),
        "working": list(WORKING_STATES),
        "since": since,
        "now": now,
    }


async def clusters(
    session: AsyncSession,
    *,
    scope: Scope,
    bbox: BBox,
    dlon: float,
    dlat: float,
    since: datetime,
    now: datetime,
) -> list[dict[str, Any]]:
    """Grid cells with clues: centroid, count, counts by state, overdue count, bounds."""
    where, params = clue_filter(scope)
    rows = await session.execute(
        text(f"""
            WITH per_state AS (
                SELECT floor(ST_X(c.location) / :dlon) AS gx,
                       floor(ST_Y(c.location) / :dlat) AS gy,
                       c.state, count(*) AS n,
                       sum(ST_X(c.location)) AS sum_lon, sum(ST_Y(c.location)) AS sum_lat,
                       count(*) FILTER (WHERE {OVERDUE}) AS overdue,
                       min(ST_X(c.location)) AS w, min(ST_Y(c.location)) AS s,
                       max(ST_X(c.location)) AS e, max(ST_Y(c.location)) AS n_
                FROM clues c
                WHERE {ON_MAP} AND {where}
                GROUP BY 1, 2, 3
            )
            SELECT sum(n) AS count, sum(sum_lon) / sum(n) AS lon, sum(sum_lat) / sum(n) AS lat,
                   jsonb_object_agg(state, n) AS by_state, sum(overdue) AS overdue,
                   min(w) AS west, min(s) AS south, max(e) AS east, max(n_) AS north
            FROM per_state GROUP BY gx, gy
            ORDER BY count DESC
        """),
        {**_viewport(bbox, since, now), **params, "dlon": dlon, "dlat": dlat},
    )
    return [dict(row._mapping) for row in rows]


async def points(
    session: AsyncSession, *, scope: Scope, bbox: BBox, since: datetime, now: datetime, limit: int
) -> list[dict[str, Any]]:
    """Clues one by one, newest first, at most `limit`."""
    where, params = clue_filter(scope)
    rows = await session.execute(
        text(f"""
            SELECT c.id, c.service_request_id, c.state, ST_X(c.location) AS lon,
                   ST_Y(c.location) AS lat, c.matter_code, m.name AS matter_name,
                   c.squad_code, c.deadline, c.created_at, {OVERDUE} AS overdue
            FROM clues c JOIN matters m ON m.code = c.matter_code
            WHERE {ON_MAP} AND {where}
            ORDER BY c.id DESC LIMIT :limit
        """),
        {**_viewport(bbox, since, now), **params, "limit": limit},
    )
    return [dict(row._mapping) for row in rows]


def _squad_scope(scope: Scope) -> tuple[str, dict[str, Any]]:
    if scope.squad is not None:
        return "s.code = :squad", {"squad": scope.squad}
    if scope.jurisdiction is not None:
        return (
            "EXISTS (SELECT 1 FROM squad_jurisdictions sj "
            "JOIN jurisdictions j ON j.code = sj.jurisdiction_code "
            "WHERE sj.squad_code = s.code AND j.path @> ARRAY[CAST(:jurisdiction AS text)])",
            {"jurisdiction": scope.jurisdiction},
        )
    return "TRUE", {}


async def squads(
    session: AsyncSession, *, scope: Scope, now: datetime, zone: str, max_position_age_s: float
) -> list[dict[str, Any]]:
    """Squads in scope: on duty now (by roster and holidays, as dispatch decides), base,
    the newest recent position of one of their devices, the devices, the jurisdictions
    served and the open workload (dispatched, accepted, on scene)."""
    where, params = _squad_scope(scope)
    rows = await session.execute(
        text(f"""
            SELECT s.code, s.name, s.department, {ON_DUTY_NOW} AS on_duty,
                   ST_X(s.base) AS base_lon, ST_Y(s.base) AS base_lat,
                   ARRAY(SELECT sj.jurisdiction_code FROM squad_jurisdictions sj
                         WHERE sj.squad_code = s.code ORDER BY 1) AS jurisdictions,
                   ARRAY(SELECT d.id FROM devices d WHERE d.squad_code = s.code
                         ORDER BY 1) AS devices,
                   (SELECT count(*) FROM clues c WHERE c.squad_code = s.code
                      AND c.state = ANY(:working)) AS open_clues,
                   live.device_id, live.at, ST_X(live.position) AS lon,
                   ST_Y(live.position) AS lat
            FROM squads s
            CROSS JOIN {ROSTER_TODAY}
            LEFT JOIN LATERAL (
                SELECT dp.device_id, dp.at, dp.position
                FROM device_positions dp JOIN devices d ON d.id = dp.device_id
                WHERE d.squad_code = s.code
                  AND dp.at >= CAST(:now AS timestamptz) - make_interval(secs => :max_age)
                ORDER BY dp.at DESC LIMIT 1
            ) AS live ON true
            WHERE {where}
            ORDER BY s.department, s.code
        """),
        {
            **params,
            "now": now,
            "zone": zone,
            "max_age": max_position_age_s,
            "working": list(WORKING_STATES),
        },
    )
    return [dict(row._mapping) for row in rows]


async def squad_names(session: AsyncSession, codes: list[str]) -> dict[str, tuple[str, str]]:
    """code → (name, department)."""
    rows = await session.execute(
        text("SELECT code, name, department FROM squads WHERE code = ANY(:codes)"),
        {"codes": codes},
    )
    return {row.code: (row.name, row.department) for row in rows}


def _jurisdiction_scope(scope: Scope) -> tuple[str, dict[str, Any]]:
    if scope.squad is not None:
        return (
            "j.path && ARRAY(SELECT sj.jurisdiction_code FROM squad_jurisdictions sj "
            "WHERE sj.squad_code = :squad)",
            {"squad": scope.squad},
        )
    if scope.jurisdiction is not None:
        return "j.path @> ARRAY[CAST(:jurisdiction AS text)]", {"jurisdiction": scope.jurisdiction}
    return "TRUE", {}


async def jurisdictions(
    session: AsyncSession, *, scope: Scope, max_rank: int, tolerance_deg: float
) -> list[dict[str, Any]]:
    """Jurisdictions in scope down to `max_rank`, simplified, as GeoJSON geometry (WGS84),
    each with a point inside it for its label."""
    where, params = _jurisdiction_scope(scope)
    rows = await session.execute(
        text(f"""
            SELECT j.code, j.name, j.level, j.parent_code,
                   ST_AsGeoJSON(ST_SimplifyPreserveTopology(j.geom, :tolerance), 6) AS geometry,
                   ST_X(ST_PointOnSurface(j.geom)) AS label_lon,
                   ST_Y(ST_PointOnSurface(j.geom)) AS label_lat,
                   ST_XMin(j.geom) AS west, ST_YMin(j.geom) AS south,
                   ST_XMax(j.geom) AS east, ST_YMax(j.geom) AS north
            FROM jurisdictions j
            WHERE j.level_rank <= :max_rank AND {where}
            ORDER BY j.level_rank, j.code
        """),
        {**params, "max_rank": max_rank, "tolerance": tolerance_deg},
    )
    found = []
    for row in rows:
        item = dict(row._mapping)
        item["geometry"] = json.loads(item["geometry"])
        found.append(item)
    return found
