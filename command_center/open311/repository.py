"""The SQL behind GeoReport v2 reads: requests as the public sees them, and updates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.open311.model import EXTENDED_STATUS, PublicRequest, RequestUpdate

SELECT = """
SELECT c.service_request_id, COALESCE(o.state, c.state) AS state,
       COALESCE(o.status_note, c.status_note) AS status_note,
       c.matter_code, m.name AS matter_name, c.department, c.description, c.media_url,
       c.address, ST_X(c.location) AS lon, ST_Y(c.location) AS lat, c.created_at,
       GREATEST(c.updated_at, o.updated_at) AS updated_at,
       COALESCE(o.deadline, c.deadline) AS deadline,
       o.service_request_id AS duplicate_of,
       COALESCE(o.report_count, c.report_count) AS report_count,
       c.channel, c.public_hidden, c.public_description,
       (SELECT e.id FROM evidence e WHERE e.clue_id = c.id AND e.public_key IS NOT NULL
        ORDER BY e.id LIMIT 1) AS public_photo_id
FROM clues c
JOIN matters m ON m.code = c.matter_code
LEFT JOIN clues o ON o.id = c.duplicate_of
"""
CLOSED = "('closed', 'cancelled')"


@dataclass(frozen=True, slots=True)
class RequestQuery:
    service_request_ids: Sequence[str] = ()
    service_codes: Sequence[str] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: Sequence[str] = ()
    city: str | None = None
    limit: int = 1000
    channels: Sequence[str] | None = None  # None: every channel (hidden ones too)


def _request(row: Any) -> PublicRequest:
    return PublicRequest(**row._mapping)


def _audience_clause(channels: Sequence[str] | None, params: dict[str, Any]) -> str:
    """Only the given channels and nothing an operator hid; TRUE for None."""
    if channels is None:
        return "TRUE"
    params["channels"] = list(channels)
    return "c.channel = ANY(:channels) AND NOT c.public_hidden"


async def by_ids(
    session: AsyncSession, ids: Sequence[str], *, channels: Sequence[str] | None = None
) -> list[PublicRequest]:
    params: dict[str, Any] = {"ids": list(ids)}
    audience = _audience_clause(channels, params)
    rows = await session.execute(
        text(f"{SELECT} WHERE c.service_request_id = ANY(:ids) AND {audience} ORDER BY c.id"),
        params,
    )
    return [_request(row) for row in rows]


async def search(session: AsyncSession, query: RequestQuery) -> list[PublicRequest]:
    """Requests by service code, time window, open/closed and city; newest first."""
    params: dict[str, Any] = {"limit": query.limit}
    clauses = [_audience_clause(query.channels, params)]
    if query.service_codes:
        clauses.append("c.matter_code = ANY(:codes)")
        params["codes"] = list(query.service_codes)
    if query.start is not None:
        clauses.append("c.created_at >= :start")
        params["start"] = query.start
    if query.end is not None:
        clauses.append("c.created_at <= :end")
        params["end"] = query.end
    if query.city is not None:
        clauses.append("c.jurisdiction_path[1] = :city")
        params["city"] = query.city
    if set(query.statuses) == {"open"}:
        clauses.append(f"COALESCE(o.state, c.state) NOT IN {CLOSED}")
    elif set(query.statuses) == {"closed"}:
        clauses.append(f"COALESCE(o.state, c.state) IN {CLOSED}")
    rows = await session.execute(
        text(f"{SELECT} WHERE {' AND '.join(clauses)} ORDER BY c.id DESC LIMIT :limit"), params
    )
    return [_request(row) for row in rows]


async def updates(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    city: str | None,
    limit: int,
    channels: Sequence[str] | None = None,
) -> list[RequestUpdate]:
    """Public status changes between two times, oldest first."""
    params: dict[str, Any] = {
        "types": list(EXTENDED_STATUS),
        "start": start,
        "end": end,
        "city": city,
        "limit": limit,
    }
    audience = _audience_clause(channels, params)
    rows = await session.execute(
        text(f"""
            SELECT e.id AS update_id, c.service_request_id, e.type AS event_type, e.at, e.data
            FROM events e JOIN clues c ON c.id = e.clue_id
            WHERE e.type = ANY(:types) AND e.at >= :start AND e.at <= :end
              AND (CAST(:city AS text) IS NULL OR c.jurisdiction_path[1] = :city)
              AND {audience}
            ORDER BY e.id LIMIT :limit
        """),
        params,
    )
    return [RequestUpdate(**row._mapping) for row in rows]


async def cities(session: AsyncSession) -> list[str]:
    """Codes of the top-level jurisdictions (the Open311 jurisdiction_id values)."""
    rows = await session.execute(
        text("SELECT code FROM jurisdictions WHERE parent_code IS NULL ORDER BY code")
    )
    return [row.code for row in rows]
