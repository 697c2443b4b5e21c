"""The only SQL of jurisdictions: upserts, the path tree and point lookup."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gis.boundaries import LEVEL_RANK, BoundaryFeature

UPSERT = text("""
INSERT INTO jurisdictions (code, name, level, level_rank, parent_code, path, geom, area_m2)
SELECT :code, :name, :level, :level_rank, :parent_code, '{}', g, ST_Area(geography(g))
FROM (SELECT ST_Multi(ST_GeomFromWKB(:wkb, 4326)) AS g) AS geometry
ON CONFLICT (code) DO UPDATE SET
    name = EXCLUDED.name, level = EXCLUDED.level, level_rank = EXCLUDED.level_rank,
    parent_code = EXCLUDED.parent_code, geom = EXCLUDED.geom, area_m2 = EXCLUDED.area_m2,
    updated_at = now()
""")

# Recompute every path from the roots; rows not reached sit on a parent cycle.
REBUILD_PATHS = text("""
WITH RECURSIVE tree AS (
    SELECT code, ARRAY[code] AS path FROM jurisdictions WHERE parent_code IS NULL
    UNION ALL
    SELECT j.code, tree.path || j.code
    FROM jurisdictions j JOIN tree ON j.parent_code = tree.code
)
UPDATE jurisdictions j SET path = tree.path
FROM tree WHERE j.code = tree.code AND j.path IS DISTINCT FROM tree.path
""")

UNREACHED = text("""
WITH RECURSIVE tree AS (
    SELECT code FROM jurisdictions WHERE parent_code IS NULL
    UNION ALL
    SELECT j.code FROM jurisdictions j JOIN tree ON j.parent_code = tree.code
)
SELECT code FROM jurisdictions WHERE code NOT IN (SELECT code FROM tree) ORDER BY code LIMIT 5
""")


async def existing_codes(session: AsyncSession, codes: Iterable[str]) -> set[str]:
    rows = await session.execute(
        text("SELECT code FROM jurisdictions WHERE code = ANY(:codes)"), {"codes": list(codes)}
    )
    return {row.code for row in rows}


async def upsert(session: AsyncSession, features: list[BoundaryFeature]) -> int:
    """Insert or update features (parents first); returns how many codes were new."""
    before = await existing_codes(session, (f.code for f in features))
    for feature in features:
        await session.execute(
            UPSERT,
            {
                "code": feature.code,
                "name": feature.name,
                "level": feature.level,
                "level_rank": LEVEL_RANK[feature.level],
                "parent_code": feature.parent_code,
                "wkb": feature.geometry.wkb,
            },
        )
    return len({f.code for f in features} - before)


async def rebuild_paths(session: AsyncSession) -> list[str]:
    """Refresh every `path`; returns codes stuck on a parent cycle (empty when sound)."""
    await session.execute(REBUILD_PATHS)
    return [row.code for row in await session.execute(UNREACHED)]


async def count_by_level(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        text("SELECT level, count(*) AS n FROM jurisdictions GROUP BY level")
    )
    return {row.level: row.n for row in rows}


async def locate_by_name(session: AsyncSession, address: str) -> tuple[str, float, float] | None:
    """The most precise jurisdiction whose name appears in `address`, and a point inside
    it (WGS84): a coarse, offline gazetteer for addresses without coordinates."""
    row = (
        await session.execute(
            text("""
                SELECT code, ST_X(p) AS lon, ST_Y(p) AS lat FROM (
                    SELECT code, level_rank, name, ST_PointOnSurface(geom) AS p
                    FROM jurisdictions
                    WHERE length(name) >= 2 AND strpos(:address, name) > 0
                ) AS found
                ORDER BY level_rank DESC, length(name) DESC, code LIMIT 1
            """),
            {"address": address},
        )
    ).one_or_none()
    return (row.code, row.lon, row.lat) if row else None
