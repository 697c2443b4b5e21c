"""The SQL of hot spots: clue counts by grid cell (or the points, for H3), matter, local
hour and weekday, in a period and a scope."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.scope import Scope, clue_filter
from command_center.hotspots.model import Count

WHERE = """
c.created_at >= :start AND c.created_at < :cut
AND c.state NOT IN ('duplicate', 'cancelled') AND c.duplicate_of IS NULL
AND {scope}
AND (cardinality(CAST(:matters AS text[])) = 0 OR c.matter_code = ANY(CAST(:matters AS text[])))
AND (CAST(:hour AS integer) IS NULL
     OR EXTRACT(HOUR FROM timezone(CAST(:zone AS text), c.created_at)) = :hour)
AND (CAST(:weekday AS integer) IS NULL
     OR EXTRACT(ISODOW FROM timezone(CAST(:zone AS text), c.created_at)) = :weekday)
"""
WHEN = """
CAST(EXTRACT(HOUR FROM timezone(CAST(:zone AS text), c.created_at)) AS integer) AS hour,
CAST(EXTRACT(ISODOW FROM timezone(CAST(:zone AS text), c.created_at)) AS integer) AS weekday
"""

GRID = f"""
SELECT g.code AS cell, g.name, c.matter_code, m.name AS matter_name, {WHEN},
       count(*) AS clues, sum(c.report_count) AS reports
FROM clues c JOIN matters m ON m.code = c.matter_code
JOIN LATERAL (
    SELECT j.code, j.name FROM jurisdictions j
    WHERE j.code = ANY(c.jurisdiction_path) AND j.level = 'grid' LIMIT 1
) g ON true
WHERE {WHERE}
GROUP BY 1, 2, 3, 4, 5, 6
"""

POINTS = f"""
SELECT ST_X(c.location) AS lon, ST_Y(c.location) AS lat, c.matter_code,
       m.name AS matter_name, {WHEN}, c.report_count AS reports
FROM clues c JOIN matters m ON m.code = c.matter_code
WHERE {WHERE}
"""

HAS_GRID = """
SELECT EXISTS (SELECT 1 FROM jurisdictions j WHERE j.level = 'grid'
               AND (CAST(:jurisdiction AS text) IS NULL
                    OR j.path @> ARRAY[CAST(:jurisdiction AS text)]))
"""


def params(
    *,
    start: datetime,
    cut: datetime,
    zone: str,
    matters: list[str],
    hour: int | None,
    weekday: int | None,
) -> dict[str, Any]:
    return {
        "start": start,
        "cut": cut,
        "zone": zone,
        "matters": matters,
        "hour": hour,
        "weekday": weekday,
    }


async def has_grid(session: AsyncSession, scope: Scope) -> bool:
    result = await session.execute(text(HAS_GRID), {"jurisdiction": scope.jurisdiction})
    return bool(result.scalar_one())


async def grid_counts(session: AsyncSession, scope: Scope, values: dict[str, Any]) -> list[Count]:
    condition, bound = clue_filter(scope)
    rows = await session.execute(text(GRID.replace("{scope}", condition)), {**values, **bound})
    return [Count(**row._mapping) for row in rows]


async def points(
    session: AsyncSession, scope: Scope, values: dict[str, Any]
) -> list[dict[str, Any]]:
    condition, bound = clue_filter(scope)
    rows = await session.execute(text(POINTS.replace("{scope}", condition)), {**values, **bound})
    return [dict(row._mapping) for row in rows]


async def grid_shapes(session: AsyncSession, codes: list[str]) -> dict[str, dict[str, Any]]:
    """GeoJSON geometries (WGS84) of grid cells, by code."""
    rows = await session.execute(
        text("SELECT code, ST_AsGeoJSON(geom, 7) AS g FROM jurisdictions WHERE code = ANY(:c)"),
        {"c": codes},
    )
    return {row.code: json.loads(row.g) for row in rows}
