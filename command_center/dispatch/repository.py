"""The routing queries: point → smallest jurisdiction → department → that department's
squads serving the place, with what ranking needs (eligibility by roster and holidays,
distance from a recent device position or the base, open workload, domains).

Everything spatial happens in PostGIS: `ST_Covers` over the GiST index picks the
jurisdiction; distances use the geography KNN operator `<->`. `now` is a parameter so
that rosters, holidays and position ages follow a controllable clock.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.dispatch.ranking import Candidate
from command_center.squads.on_duty_sql import ON_DUTY_NOW, ROSTER_TODAY

PLACE = text("""
WITH pt AS (
    SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g
),
j AS (
    SELECT code, path FROM jurisdictions, pt
    WHERE ST_Covers(jurisdictions.geom, pt.g)
    ORDER BY level_rank DESC, area_m2 ASC, code
    LIMIT 1
)
SELECT j.code AS jurisdiction_code, j.path AS jurisdiction_path,
       m.code AS matter_code, m.department, m.domain, m.deadline_hours,
       m.duplicate_radius_m, m.duplicate_window_hours, m.accept_minutes,
       m.joint_departments, m.working_hours,
       COALESCE(CAST(:now AS timestamptz), now()) AS now
FROM (SELECT 1) AS one
LEFT JOIN j ON true
LEFT JOIN matters m ON m.code = :matter_code
""")

CANDIDATES = text(f"""
WITH pt AS (
    SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g
),
clock AS (
    SELECT CAST(:now AS timestamptz) AS now
)
SELECT s.code AS squad_code,
       {ON_DUTY_NOW} AS eligible,
       geography(COALESCE(live.position, s.base)) <-> geography(pt.g) AS distance_m,
       live.position IS NOT NULL AS live_position,
       (SELECT count(*) FROM clues c
        WHERE c.squad_code = s.code
          AND c.state IN ('dispatched', 'accepted', 'on_scene')) AS open_clues,
       (cardinality(s.domains) = 0 OR :domain = ANY(s.domains)) AS handles_domain
FROM squads s
CROSS JOIN pt
CROSS JOIN clock
CROSS JOIN {ROSTER_TODAY}
LEFT JOIN LATERAL (
    SELECT dp.position FROM device_positions dp JOIN devices d ON d.id = dp.device_id
    WHERE d.squad_code = s.code
      AND dp.at >= clock.now - make_interval(secs => :max_age)
      AND dp.at <= clock.now + interval '5 minutes'
    ORDER BY dp.at DESC LIMIT 1
) AS live ON true
WHERE s.department = :department
  AND EXISTS (
      SELECT 1 FROM squad_jurisdictions sj
      WHERE sj.squad_code = s.code AND sj.jurisdiction_code = ANY(:path)
  )
ORDER BY s.code
""")


async def place(
    session: AsyncSession, *, lon: float, lat: float, matter_code: str, now: datetime | None
) -> Any:
    """The jurisdiction and matter row (both may be NULL) and the clock's time."""
    return (
        await session.execute(
            PLACE, {"lon": lon, "lat": lat, "matter_code": matter_code, "now": now}
        )
    ).one()


async def candidates(
    session: AsyncSession,
    *,
    lon: float,
    lat: float,
    department: str,
    domain: str,
    path: list[str],
    now: datetime,
    zone: str,
    max_position_age_s: float,
) -> list[Candidate]:
    rows = await session.execute(
        CANDIDATES,
        {
            "lon": lon,
            "lat": lat,
            "department": department,
            "domain": domain,
            "path": path,
            "now": now,
            "zone": zone,
            "max_age": max_position_age_s,
        },
    )
    return [
        Candidate(
            squad_code=row.squad_code,
            eligible=bool(row.eligible),
            distance_m=float(row.distance_m),
            open_clues=int(row.open_clues),
            handles_domain=bool(row.handles_domain),
            live_position=bool(row.live_position),
        )
        for row in rows
    ]


async def calendar_days(
    session: AsyncSession, *, start: datetime, days: int
) -> tuple[frozenset[date], frozenset[date]]:
    """(holidays, adjusted working days) from `start` for `days` days."""
    rows = await session.execute(
        text(
            "SELECT day, workday FROM holidays WHERE day >= CAST(:start AS date) - 1 "
            "AND day <= CAST(:start AS date) + :days"
        ),
        {"start": start, "days": days},
    )
    found = [(row.day, row.workday) for row in rows]
    return (
        frozenset(day for day, workday in found if not workday),
        frozenset(day for day, workday in found if workday),
    )
