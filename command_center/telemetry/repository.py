"""The only SQL of devices and telemetry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.telemetry.model import Device, DeviceKind, Position, Report
from command_center.telemetry.plausibility import Suspect

DEVICE_COLUMNS = "d.id, d.kind, d.squad_code, d.label"
POSITION_COLUMNS = """
    p.at, ST_X(p.position) AS lon, ST_Y(p.position) AS lat, p.heading, p.speed, p.altitude,
    p.battery, p.accuracy, p.jurisdiction_code, p.scope_path
"""

# A device seen for the first time is registered; an unknown squad is left out.
ENSURE_DEVICE = text(f"""
WITH added AS (
    INSERT INTO devices (id, kind, squad_code)
    VALUES (:id, :kind, (SELECT code FROM squads WHERE code = :squad))
    ON CONFLICT (id) DO NOTHING
    RETURNING *
)
SELECT {DEVICE_COLUMNS} FROM added d
UNION ALL
SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.id = :id
LIMIT 1
""")

REGISTER = text(f"""
INSERT INTO devices AS d (id, kind, squad_code, label)
VALUES (:id, :kind, :squad, :label)
ON CONFLICT (id) DO UPDATE SET
    kind = EXCLUDED.kind, squad_code = EXCLUDED.squad_code, label = EXCLUDED.label,
    updated_at = now()
RETURNING {DEVICE_COLUMNS}
""")

# The jurisdictions a squad serves, with every ancestor: who oversees that squad.
SQUAD_PATHS = """
    SELECT DISTINCT unnest(j.path) FROM squad_jurisdictions sj
    JOIN jurisdictions j ON j.code = sj.jurisdiction_code
    WHERE sj.squad_code = {squad}
"""

# Store points with the smallest jurisdiction covering each; return the newest.
INSERT_POINTS = text(f"""
WITH input AS (
    SELECT * FROM jsonb_to_recordset(CAST(:points AS jsonb)) AS p(
        at timestamptz, lon float8, lat float8, crs text, heading real, speed real,
        altitude real, battery real, accuracy real, suspect text)
),
located AS (
    SELECT input.*, ST_SetSRID(ST_MakePoint(input.lon, input.lat), 4326) AS g, j.code, j.path
    FROM input LEFT JOIN LATERAL (
        SELECT code, path FROM jurisdictions
        WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(input.lon, input.lat), 4326))
        ORDER BY level_rank DESC, area_m2 ASC, code LIMIT 1
    ) AS j ON true
),
written AS (
    INSERT INTO telemetry (device_id, at, position, submitted_crs, heading, speed, altitude,
        battery, accuracy, jurisdiction_code, jurisdiction_path, suspect)
    SELECT :device, at, g, crs, heading, speed, altitude, battery, accuracy, code,
           COALESCE(path, '{{}}'), suspect
    FROM located
    RETURNING *
)
SELECT at, ST_X(position) AS lon, ST_Y(position) AS lat, heading, speed, altitude, battery,
       accuracy, jurisdiction_code, jurisdiction_path,
       ARRAY(SELECT DISTINCT x FROM unnest(
           jurisdiction_path || ARRAY({SQUAD_PATHS.format(squad=":squad")})) AS x) AS scope_path
FROM written WHERE suspect IS NULL ORDER BY at DESC LIMIT 1
""")

# Per point: within the city's area plus a margin? (An empty map knows no area: all are.)
# The margin is first tested in degrees (an index search, generous below 60° latitude),
# then on the sphere.
INSIDE_AREA = text("""
SELECT p.n, (
    NOT EXISTS (SELECT 1 FROM jurisdictions)
    OR EXISTS (SELECT 1 FROM jurisdictions j WHERE ST_Covers(j.geom, p.g))
    OR EXISTS (
        SELECT 1 FROM jurisdictions j
        WHERE ST_DWithin(j.geom, p.g, :margin_m / 55000.0)
          AND ST_DWithin(geography(j.geom), geography(p.g), :margin_m)
    )
) AS inside
FROM (
    SELECT n, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS g
    FROM jsonb_to_recordset(CAST(:points AS jsonb)) AS x(n int, lon float8, lat float8)
) AS p
ORDER BY p.n
""")

# Keep the newest point per device (by the device's clock); older uploads do not move it.
MOVE_DEVICE = text(f"""
INSERT INTO device_positions AS p (device_id, at, position, heading, speed, altitude, battery,
    accuracy, jurisdiction_code, jurisdiction_path, scope_path)
VALUES (:device, :at, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :heading, :speed,
    :altitude, :battery, :accuracy, :jurisdiction_code, :jurisdiction_path, :scope_path)
ON CONFLICT (device_id) DO UPDATE SET
    at = EXCLUDED.at, received_at = now(), position = EXCLUDED.position,
    heading = EXCLUDED.heading, speed = EXCLUDED.speed, altitude = EXCLUDED.altitude,
    battery = EXCLUDED.battery, accuracy = EXCLUDED.accuracy,
    jurisdiction_code = EXCLUDED.jurisdiction_code,
    jurisdiction_path = EXCLUDED.jurisdiction_path, scope_path = EXCLUDED.scope_path
WHERE p.at <= EXCLUDED.at
RETURNING {POSITION_COLUMNS}
""")


def _device(row: Any) -> Device:
    return Device(id=row.id, kind=DeviceKind(row.kind), squad_code=row.squad_code, label=row.label)


def _position(device: Device, row: Any) -> Position:
    return Position(
        device=device,
        at=row.at,
        lon=row.lon,
        lat=row.lat,
        heading=row.heading,
        speed=row.speed,
        altitude=row.altitude,
        battery=row.battery,
        accuracy=row.accuracy,
        jurisdiction_code=row.jurisdiction_code,
        scope_path=tuple(row.scope_path),
    )


async def ensure_device(
    session: AsyncSession, device_id: str, *, kind: DeviceKind, squad_code: str | None
) -> Device:
    row = (
        await session.execute(ENSURE_DEVICE, {"id": device_id, "kind": kind, "squad": squad_code})
    ).one()
    return _device(row)


async def register(session: AsyncSession, device: Device) -> Device:
    row = (
        await session.execute(
            REGISTER,
            {
                "id": device.id,
                "kind": device.kind.value,
                "squad": device.squad_code,
                "label": device.label,
            },
        )
    ).one()
    return _device(row)


async def get_device(session: AsyncSession, device_id: str) -> Device | None:
    row = (
        await session.execute(
            text(f"SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.id = :id"), {"id": device_id}
        )
    ).one_or_none()
    return _device(row) if row else None


async def record(
    session: AsyncSession,
    device: Device,
    reports: list[Report],
    suspects: Sequence[Suspect | None],
) -> Position | None:
    """Store the points with their verdicts; the device's new position if the newest
    believed point is its latest (suspect points never move it)."""
    points = [
        {
            "at": r.at.isoformat(),
            "lon": r.lon,
            "lat": r.lat,
            "crs": r.submitted_crs,
            "heading": r.heading,
            "speed": r.speed,
            "altitude": r.altitude,
            "battery": r.battery,
            "accuracy": r.accuracy,
            "suspect": None if why is None else why.value,
        }
        for r, why in zip(reports, suspects, strict=True)
    ]
    newest = (
        await session.execute(
            INSERT_POINTS,
            {"points": json.dumps(points), "device": device.id, "squad": device.squad_code},
        )
    ).one_or_none()
    if newest is None:  # every point suspect: stored, but the device does not move
        return None
    moved = (
        await session.execute(
            MOVE_DEVICE,
            {
                "device": device.id,
                "at": newest.at,
                "lon": newest.lon,
                "lat": newest.lat,
                "heading": newest.heading,
                "speed": newest.speed,
                "altitude": newest.altitude,
                "battery": newest.battery,
                "accuracy": newest.accuracy,
                "jurisdiction_code": newest.jurisdiction_code,
                "jurisdiction_path": list(newest.jurisdiction_path),
                "scope_path": list(newest.scope_path),
            },
        )
    ).one_or_none()
    return _position(device, moved) if moved else None


async def inside_area(
    session: AsyncSession, points: Sequence[tuple[float, float]], *, margin_m: float
) -> list[bool]:
    """Per (lon, lat): within the jurisdictions' area plus `margin_m` metres."""
    if not points:
        return []
    numbered = [{"n": n, "lon": lon, "lat": lat} for n, (lon, lat) in enumerate(points)]
    rows = await session.execute(
        INSIDE_AREA, {"points": json.dumps(numbered), "margin_m": margin_m}
    )
    return [bool(row.inside) for row in rows]


async def last_position(session: AsyncSession, device: Device) -> Position | None:
    row = (
        await session.execute(
            text(f"SELECT {POSITION_COLUMNS} FROM device_positions p WHERE p.device_id = :id"),
            {"id": device.id},
        )
    ).one_or_none()
    return _position(device, row) if row else None


async def squad_paths(session: AsyncSession, squad_code: str) -> tuple[str, ...]:
    rows = await session.execute(text(SQUAD_PATHS.format(squad=":squad")), {"squad": squad_code})
    return tuple(sorted(row[0] for row in rows))


async def positions(
    session: AsyncSession, *, jurisdiction: str | None, squad: str | None, since_hours: float
) -> list[Position]:
    """Last positions newer than `since_hours`, of devices of `squad` or (else) seen by
    `jurisdiction` (None: all)."""
    clause, params = _scope(jurisdiction=jurisdiction, squad=squad)
    rows = await session.execute(
        text(f"""
            SELECT {DEVICE_COLUMNS}, {POSITION_COLUMNS}
            FROM device_positions p JOIN devices d ON d.id = p.device_id
            WHERE p.at > now() - make_interval(secs => :since) AND {clause}
            ORDER BY d.id
        """),
        {"since": since_hours * 3600, **params},
    )
    return [_position(_device(row), row) for row in rows]


async def devices(
    session: AsyncSession, *, jurisdiction: str | None, squad: str | None
) -> list[tuple[Device, Position | None]]:
    """Devices in scope (their squad's, or where they were last seen), with last positions."""
    clause, params = _scope(jurisdiction=jurisdiction, squad=squad)
    if squad is None and jurisdiction is not None:
        clause += f" OR :jurisdiction IN ({SQUAD_PATHS.format(squad='d.squad_code')})"
    rows = await session.execute(
        text(f"""
            SELECT {DEVICE_COLUMNS}, p.device_id AS located, {POSITION_COLUMNS}
            FROM devices d LEFT JOIN device_positions p ON p.device_id = d.id
            WHERE {clause}
            ORDER BY d.id
        """),
        params,
    )
    found = []
    for row in rows:
        device = _device(row)
        found.append((device, _position(device, row) if row.located else None))
    return found


def _scope(*, jurisdiction: str | None, squad: str | None) -> tuple[str, dict[str, Any]]:
    if squad is not None:
        return "d.squad_code = :squad", {"squad": squad}
    if jurisdiction is None:
        return "TRUE", {}
    return "COALESCE(p.scope_path, '{}') @> ARRAY[CAST(:jurisdiction AS text)]", {
        "jurisdiction": jurisdiction
    }
