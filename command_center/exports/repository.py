"""The SQL of exports: clues with filters, streamed from a server-side cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.scope import Scope, clue_filter
from command_center.exports.model import Filters

UTC_ISO = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

SELECT = f"""
SELECT c.id, c.service_request_id, c.state, c.channel, c.matter_code, m.name AS matter_name,
       c.department, c.jurisdiction_code, j.name AS jurisdiction_name, c.squad_code,
       round(CAST(ST_X(c.location) AS numeric), 7)::float AS lon,
       round(CAST(ST_Y(c.location) AS numeric), 7)::float AS lat,
       {UTC_ISO.format("c.created_at")} AS received_at,
       {UTC_ISO.format("c.dispatched_at")} AS dispatched_at,
       {UTC_ISO.format("c.deadline")} AS deadline,
       {UTC_ISO.format("c.closed_at")} AS closed_at,
       COALESCE(c.state IN ('dispatched', 'accepted', 'on_scene')
                AND c.on_hold_since IS NULL AND c.deadline < now(), false) AS overdue,
       c.report_count, c.rating, c.duplicate_of, c.description
FROM clues c JOIN matters m ON m.code = c.matter_code
JOIN jurisdictions j ON j.code = c.jurisdiction_code
WHERE {{scope}}
  AND (cardinality(CAST(:states AS text[])) = 0 OR c.state = ANY(CAST(:states AS text[])))
  AND (cardinality(CAST(:matters AS text[])) = 0
       OR c.matter_code = ANY(CAST(:matters AS text[])))
  AND (CAST(:department AS text) IS NULL OR c.department = CAST(:department AS text))
  AND (CAST(:jurisdiction AS text) IS NULL
       OR c.jurisdiction_path @> ARRAY[CAST(:jurisdiction AS text)])
  AND (CAST(:since AS timestamptz) IS NULL OR c.created_at >= :since)
  AND (CAST(:until AS timestamptz) IS NULL OR c.created_at < :until)
  AND (CAST(:west AS double precision) IS NULL
       OR c.location && ST_MakeEnvelope(:west, :south, :east, :north, 4326))
ORDER BY c.id
LIMIT :limit
"""


def _params(filters: Filters, scope: Scope, zone: ZoneInfo) -> dict[str, Any]:
    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), zone)

    box = filters.bbox
    return {
        **clue_filter(scope)[1],
        "states": list(filters.states),
        "matters": list(filters.matters),
        "department": filters.department,
        "jurisdiction": filters.jurisdiction,
        "since": midnight(filters.received_from) if filters.received_from else None,
        "until": midnight(filters.received_to + timedelta(days=1)) if filters.received_to else None,
        "west": box[0] if box else None,
        "south": box[1] if box else None,
        "east": box[2] if box else None,
        "north": box[3] if box else None,
        "limit": filters.limit,
    }


async def clues(
    session: AsyncSession, filters: Filters, scope: Scope, zone: ZoneInfo
) -> AsyncIterator[dict[str, Any]]:
    """The matching clues in id order, fetched in batches as the caller reads them."""
    result = await session.stream(
        text(SELECT.replace("{scope}", clue_filter(scope)[0])).execution_options(yield_per=1000),
        _params(filters, scope, zone),
    )
    async for row in result.mappings():
        yield dict(row)
