"""The only SQL of evidence."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.evidence.model import Evidence, Kind, NewEvidence

COLUMNS = """
    id, clue_id, kind, media_type, sha256, size_bytes, storage_key, public_key, taken_at,
    device_id, ST_X(location) AS lon, ST_Y(location) AS lat, note, created_at
"""


def _evidence(row: Any) -> Evidence:
    values = dict(row._mapping)
    values["kind"] = Kind(values["kind"])
    return Evidence(**values)


async def insert(
    session: AsyncSession,
    item: NewEvidence,
    *,
    sha256: str,
    storage_key: str,
    public_key: str | None,
) -> Evidence:
    row = (
        await session.execute(
            text(f"""
                INSERT INTO evidence (clue_id, kind, media_type, sha256, size_bytes,
                    storage_key, public_key, taken_at, device_id, location, added_by, note)
                VALUES (:clue_id, :kind, :media_type, :sha256, :size, :storage_key,
                    :public_key, :taken_at, :device_id,
                    CASE WHEN CAST(:lon AS double precision) IS NULL THEN NULL
                         ELSE ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END,
                    CAST(:added_by AS jsonb), :note)
                RETURNING {COLUMNS}
            """),
            {
                "clue_id": item.clue_id,
                "kind": item.kind.value,
                "media_type": item.media_type,
                "sha256": sha256,
                "size": len(item.content),
                "storage_key": storage_key,
                "public_key": public_key,
                "taken_at": item.taken_at,
                "device_id": item.device_id,
                "lon": item.lon,
                "lat": item.lat,
                "added_by": json.dumps(item.added_by),
                "note": item.note,
            },
        )
    ).one()
    return _evidence(row)


async def for_clue(session: AsyncSession, clue_id: int) -> list[Evidence]:
    rows = await session.execute(
        text(f"SELECT {COLUMNS} FROM evidence WHERE clue_id = :clue ORDER BY id"),
        {"clue": clue_id},
    )
    return [_evidence(row) for row in rows]


async def get(session: AsyncSession, evidence_id: int) -> Evidence | None:
    row = (
        await session.execute(
            text(f"SELECT {COLUMNS} FROM evidence WHERE id = :id"), {"id": evidence_id}
        )
    ).one_or_none()
    return _evidence(row) if row else None
