"""The only SQL of jurisdictions: upserts, the path tree and point lookup."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gis.boundaries import LEVEL_RANK, BoundaryFeature

# One statement per batch of features, in the order given (parents first). Codes are
# unique within a file (gis.boundaries refuses repeats), so no row is hit twice.
UPSERT = text("""
INSERT INTO jurisdictions (code, name, level, level_rank, parent_code, path, geom, area_m2)
SELECT f.code, f.name, f.level, f.level_rank, f.parent_code, '{}', f.g, ST_Area(geography(f.g))
FROM (
    SELECT code, name, level, level_rank, parent_code, ST_Multi(ST_GeomFromWKB(wkb, 4326)) AS g, n
    FROM unnest(CAST(:codes AS text[]), CAST(:names AS text[]), CAST(:levels AS text[]),
                CAST(:level_ranks AS smallint[]), CAST(:parent_codes AS text[]),
                CAST(:wkbs AS bytea[]))
         WITH ORDINALITY AS u(code, name, level, level_rank, parent_code, wkb, n)
) AS f
ORDER BY f.n
ON CONFLICT (code) DO UPDATE SET
    name = EXCLUDED.name, level = EXCLUDED.level, level_rank = EXCLUDED.level_rank,
    parent_code = EXCLUDED.parent_code, path = '{}', geom = EXCLUDED.geom,
    area_m2 = EXCLUDED.area_m2, updated_at = now()
""")
UPSERT_BATCH = 1000

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

# Upserted rows start with an empty path (new or updated alike); REBUILD_PATHS gives one
# to every row reached from a root, so a row left without one sits on a parent cycle.
# (A recursive anti-join said the same but took minutes at 100,000 grid cells.)
UNREACHED = text("SELECT code FROM jurisdictions WHERE path = '{}' ORDER BY code LIMIT 5")


async def existing_codes(session: AsyncSession, codes: Iterable[str]) -> set[str]:
    rows = await session.execute(
        text("SELECT code FROM jurisdictions WHERE code = ANY(:codes)"), {"codes": list(codes)}
    )
    return {row.code for row in rows}


async def upsert(session: AsyncSession, features: list[BoundaryFeature]) -> int:
    """Insert or update features (parents first); returns how many codes were new."""
    before = await existing_codes(session, (f.code for f in features))
    for start in range(0, len(features), UPSERT_BATCH):
        batch = features[start : start + UPSERT_BATCH]
        await session.execute(
            UPSERT,
            {
                "codes": [f.code for f in batch],
                "names": [f.name for f in batch],
                "levels": [f.level for f in batch],
                "level_ranks": [LEVEL_RANK[f.level] for f in batch],
                "parent_codes": [f.parent_code for f in batch],
                "wkbs": [f.geometry.wkb for f in batch],
            },
        )
    return len({f.code for f in features} - before)


async def rebuild_paths(session: AsyncSession) -> list[str]:
    """Refresh every `path`; returns codes stuck on a parent cycle (empty when sound).

    The statistics of a table that just received thousands of rows in this transaction
    still count the few rows it had, and a nested loop over them took minutes for
    100,000 new grid cells; this transaction plans the rebuild without nested loops.
    """
    previous = await session.scalar(text("SELECT current_setting('enable_nestloop')"))
    await session.execute(text("SELECT set_config('enable_nestloop', 'off', true)"))
    await session.execute(REBUILD_PATHS)
    await session.execute(
        text("SELECT set_config('enable_nestloop', :previous, true)"), {"previous": previous}
    )
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
