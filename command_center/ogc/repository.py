"""The SQL of the OGC API: each collection is a scoped SELECT of (id, ord, geom, at,
props); items, one item, extents and vector tiles are built on top of it. Geometries are
SRID 4326 (CRS84 order: longitude, latitude); tiles are cut in EPSG:3857 by PostGIS
(ST_TileEnvelope, ST_AsMVTGeom, ST_AsMVT)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.scope import Scope, clue_filter
from command_center.ogc.model import BBox, CollectionId, Extent, Feature, Interval
from command_center.squads.on_duty_sql import ON_DUTY_NOW, ROSTER_TODAY

SCOPE_JURISDICTION = (
    "(CAST(:jurisdiction AS text) IS NULL OR {path} @> ARRAY[CAST(:jurisdiction AS text)])"
)

SOURCES: dict[CollectionId, str] = {
    CollectionId.JURISDICTIONS: f"""
SELECT j.code AS id, j.code AS ord, j.geom, CAST(NULL AS timestamptz) AS at,
       jsonb_build_object('code', j.code, 'name', j.name, 'level', j.level,
                          'parent_code', j.parent_code) AS props
FROM jurisdictions j
WHERE {SCOPE_JURISDICTION.format(path="j.path")}
  AND (CAST(:squad AS text) IS NULL OR EXISTS (
        SELECT 1 FROM squad_jurisdictions sj
        WHERE sj.squad_code = CAST(:squad AS text) AND j.path @> ARRAY[sj.jurisdiction_code]))
""",
    CollectionId.OPEN_CLUES: """
SELECT CAST(c.id AS text) AS id, lpad(CAST(c.id AS text), 20, '0') AS ord,
       c.location AS geom, c.created_at AS at,
       jsonb_build_object(
           'id', c.id, 'service_request_id', c.service_request_id, 'state', c.state,
           'channel', c.channel, 'matter_code', c.matter_code, 'matter_name', m.name,
           'department', c.department, 'jurisdiction_code', c.jurisdiction_code,
           'squad_code', c.squad_code, 'received_at', c.created_at, 'deadline', c.deadline,
           'overdue', COALESCE(c.state IN ('dispatched', 'accepted', 'on_scene')
                               AND c.on_hold_since IS NULL AND c.deadline < now(), false),
           'on_hold', c.on_hold_since IS NOT NULL, 'report_count', c.report_count,
           'description', c.description) AS props
FROM clues c JOIN matters m ON m.code = c.matter_code
WHERE c.state NOT IN ('closed', 'cancelled', 'duplicate') AND {scope}
""",
    CollectionId.SQUADS: f"""
SELECT s.code AS id, s.code AS ord, s.base AS geom, CAST(NULL AS timestamptz) AS at,
       jsonb_build_object(
           'code', s.code, 'name', s.name, 'department', s.department, 'on_duty', {ON_DUTY_NOW},
           'jurisdictions', ARRAY(SELECT sj.jurisdiction_code FROM squad_jurisdictions sj
                                  WHERE sj.squad_code = s.code ORDER BY 1),
           'working_clues', (SELECT count(*) FROM clues c WHERE c.squad_code = s.code
                             AND c.state IN ('dispatched', 'accepted', 'on_scene'))) AS props
FROM squads s CROSS JOIN {ROSTER_TODAY}
WHERE (CAST(:squad AS text) IS NULL OR s.code = CAST(:squad AS text))
  AND (CAST(:jurisdiction AS text) IS NULL OR EXISTS (
        SELECT 1 FROM squad_jurisdictions sj JOIN jurisdictions j ON j.code = sj.jurisdiction_code
        WHERE sj.squad_code = s.code
          AND (j.path @> ARRAY[CAST(:jurisdiction AS text)]
               OR (SELECT me.path FROM jurisdictions me
                   WHERE me.code = CAST(:jurisdiction AS text)) @> ARRAY[j.code])))
""",
}

FILTERS = """
(CAST(:west AS double precision) IS NULL
 OR s.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326)
    AND ST_Intersects(s.geom, ST_MakeEnvelope(:west, :south, :east, :north, 4326)))
AND (CAST(:since AS timestamptz) IS NULL OR s.at IS NULL OR s.at >= :since)
AND (CAST(:until AS timestamptz) IS NULL OR s.at IS NULL OR s.at <= :until)
"""


def _params(
    scope: Scope, zone: str, bbox: BBox | None = None, when: Interval | None = None
) -> dict[str, Any]:
    """The parameters every source takes; `now` and `zone` decide who is on duty."""
    return {
        "now": datetime.now(UTC),
        "zone": zone,
        "jurisdiction": scope.jurisdiction,
        "squad": scope.squad,
        **clue_filter(scope)[1],
        "west": bbox.west if bbox else None,
        "south": bbox.south if bbox else None,
        "east": bbox.east if bbox else None,
        "north": bbox.north if bbox else None,
        "since": when.start if when else None,
        "until": when.end if when else None,
    }


def _source(collection: CollectionId, scope: Scope) -> str:
    """The collection's SELECT with the clue scope rule (auth.scope) filled in."""
    return SOURCES[collection].replace("{scope}", clue_filter(scope)[0])


def _feature(row: Any) -> Feature:
    geometry = json.loads(row.geometry) if row.geometry else None
    return Feature(id=row.id, geometry=geometry, properties=dict(row.props))


async def items(
    session: AsyncSession,
    collection: CollectionId,
    *,
    scope: Scope,
    zone: str,
    bbox: BBox | None,
    when: Interval | None,
    limit: int,
    offset: int,
) -> tuple[list[Feature], int]:
    """A page of features in `ord` order and how many match in all."""
    source = _source(collection, scope)
    params = {**_params(scope, zone, bbox, when), "limit": limit, "offset": offset}
    rows = await session.execute(
        text(
            f"SELECT s.id, ST_AsGeoJSON(s.geom, 7) AS geometry, s.props FROM ({source}) s "
            f"WHERE {FILTERS} ORDER BY s.ord LIMIT :limit OFFSET :offset"
        ),
        params,
    )
    matched = await session.execute(
        text(f"SELECT count(*) FROM ({source}) s WHERE {FILTERS}"), params
    )
    return [_feature(row) for row in rows], int(matched.scalar_one())


async def item(
    session: AsyncSession, collection: CollectionId, *, scope: Scope, zone: str, feature_id: str
) -> Feature | None:
    row = (
        await session.execute(
            text(
                f"SELECT s.id, ST_AsGeoJSON(s.geom, 7) AS geometry, s.props "
                f"FROM ({_source(collection, scope)}) s WHERE s.id = :fid"
            ),
            {**_params(scope, zone), "fid": feature_id},
        )
    ).one_or_none()
    return _feature(row) if row else None


async def extent(
    session: AsyncSession, collection: CollectionId, *, scope: Scope, zone: str
) -> Extent:
    row = (
        await session.execute(
            text(
                "SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n, "
                "first, last FROM (SELECT ST_Extent(s.geom) AS e, min(s.at) AS first, "
                f"max(s.at) AS last FROM ({_source(collection, scope)}) s) x"
            ),
            _params(scope, zone),
        )
    ).one()
    box = None if row.w is None else (row.w, row.s, row.e, row.n)
    return Extent(box, row.first, row.last)


async def tile(
    session: AsyncSession,
    collection: CollectionId,
    *,
    scope: Scope,
    zone: str,
    z: int,
    x: int,
    y: int,
) -> bytes:
    """One Mapbox vector tile (layer named after the collection; the features' properties
    as attributes), cut to the tile with a 64-unit buffer."""
    result = await session.execute(
        text(
            f"""
WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env),
features AS (
    SELECT ST_AsMVTGeom(ST_Transform(s.geom, 3857), bounds.env, 4096, 64, true) AS geom,
           s.id AS fid, s.props
    FROM ({_source(collection, scope)}) s, bounds
    WHERE s.geom && ST_Transform(bounds.env, 4326)
)
SELECT ST_AsMVT(features.*, :layer, 4096, 'geom') FROM features WHERE geom IS NOT NULL
"""
        ),
        {**_params(scope, zone), "z": z, "x": x, "y": y, "layer": collection.value},
    )
    return bytes(result.scalar_one() or b"")
