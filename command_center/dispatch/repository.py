"""The routing query: point → smallest jurisdiction → department → nearest on-duty squad.

Everything happens in PostGIS in one round trip: `ST_Covers` over the GiST index picks the
jurisdiction, the matter names the department, and the KNN operator `<->` on geography
orders that department's squads that serve the jurisdiction or one of its ancestors.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.dispatch.model import Route

ROUTE = text("""
WITH pt AS (
    SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g
),
j AS (
    SELECT code, path FROM jurisdictions, pt
    WHERE ST_Covers(jurisdictions.geom, pt.g)
    ORDER BY level_rank DESC, area_m2 ASC, code
    LIMIT 1
),
m AS (
    SELECT code, department, deadline_hours, duplicate_radius_m, duplicate_window_hours
    FROM matters WHERE code = :matter_code
),
serving AS (
    SELECT s.code, s.on_duty,
           geography(s.base) <-> geography(pt.g) AS distance_m,
           s.code = :prefer AS preferred
    FROM squads s, pt, m, j
    WHERE s.department = m.department
      AND EXISTS (
          SELECT 1 FROM squad_jurisdictions sj
          WHERE sj.squad_code = s.code AND sj.jurisdiction_code = ANY(j.path)
      )
)
SELECT j.code AS jurisdiction_code, j.path AS jurisdiction_path,
       m.code AS matter_code, m.department, m.deadline_hours,
       m.duplicate_radius_m, m.duplicate_window_hours,
       best.code AS squad_code, best.distance_m,
       (SELECT count(*) FROM serving) AS serving_squads,
       (SELECT count(*) FROM serving WHERE on_duty) AS on_duty_squads,
       now() AS now
FROM (SELECT 1) AS one
LEFT JOIN j ON true
LEFT JOIN m ON true
LEFT JOIN LATERAL (
    SELECT code, distance_m FROM serving WHERE on_duty
    ORDER BY preferred DESC, distance_m, code LIMIT 1
) AS best ON true
""")


async def route(
    session: AsyncSession, *, lon: float, lat: float, matter_code: str, prefer: str | None
) -> Route:
    row = (
        await session.execute(
            ROUTE, {"lon": lon, "lat": lat, "matter_code": matter_code, "prefer": prefer or ""}
        )
    ).one()
    return Route(
        jurisdiction_code=row.jurisdiction_code,
        jurisdiction_path=tuple(row.jurisdiction_path or ()),
        matter_code=row.matter_code,
        department=row.department,
        deadline_hours=row.deadline_hours,
        squad_code=row.squad_code,
        distance_m=None if row.distance_m is None else round(float(row.distance_m), 1),
        serving_squads=int(row.serving_squads),
        on_duty_squads=int(row.on_duty_squads),
        now=row.now,
        duplicate_radius_m=row.duplicate_radius_m or 0,
        duplicate_window_hours=row.duplicate_window_hours or 0,
    )
