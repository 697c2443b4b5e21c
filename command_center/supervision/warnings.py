"""Warnings the wall screen shows, computed from the current state (SQL), scoped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CLUE_WARNINGS = text("""
SELECT w.kind, c.id AS clue_id, c.service_request_id, c.state, c.squad_code, c.department,
       c.jurisdiction_code, c.deadline
FROM clues c
JOIN matters m ON m.code = c.matter_code
CROSS JOIN LATERAL (VALUES
    ('overdue', c.state IN ('dispatched', 'accepted', 'on_scene')
                AND c.on_hold_since IS NULL AND c.deadline < :now),
    ('due_soon', c.state IN ('dispatched', 'accepted', 'on_scene')
                 AND c.on_hold_since IS NULL AND c.deadline >= :now
                 AND c.deadline < :now + (c.deadline - c.dispatched_at) * 0.25),
    ('unaccepted', c.state = 'dispatched'
                   AND c.dispatched_at + make_interval(mins => m.accept_minutes) < :now),
    ('returned_twice', c.return_count >= 2
                       AND c.state NOT IN ('closed', 'cancelled', 'duplicate')),
    ('reopened', c.reopen_count >= 1 AND c.state NOT IN ('closed', 'cancelled', 'duplicate')),
    ('alert_failed', c.state NOT IN ('closed', 'cancelled', 'duplicate')
                     AND EXISTS (SELECT 1 FROM alert_attempts a WHERE a.clue_id = c.id
                                 AND a.status = 'failed'
                                 AND a.created_at >= COALESCE(c.dispatched_at, c.created_at)))
) AS w(kind, applies)
WHERE w.applies
  AND (CAST(:jurisdiction AS text) IS NULL
       OR c.jurisdiction_path @> ARRAY[CAST(:jurisdiction AS text)])
ORDER BY c.deadline NULLS LAST, c.id
LIMIT 500
""")

SILENT_SQUADS = text("""
SELECT s.code AS squad_code, max(dp.at) AS last_position_at
FROM squads s
JOIN devices d ON d.squad_code = s.code
LEFT JOIN device_positions dp ON dp.device_id = d.id
WHERE (CAST(:jurisdiction AS text) IS NULL OR EXISTS (
        SELECT 1 FROM squad_jurisdictions sj JOIN jurisdictions j ON j.code = sj.jurisdiction_code
        WHERE sj.squad_code = s.code AND j.path @> ARRAY[CAST(:jurisdiction AS text)]))
GROUP BY s.code
HAVING max(dp.at) IS NULL OR max(dp.at) < :now - make_interval(secs => :max_age)
ORDER BY s.code
""")


async def current(
    session: AsyncSession, *, now: datetime, jurisdiction: str | None, max_position_age_s: float
) -> list[dict[str, Any]]:
    rows = await session.execute(CLUE_WARNINGS, {"now": now, "jurisdiction": jurisdiction})
    warnings = [dict(row._mapping) for row in rows]
    for row in await session.execute(
        SILENT_SQUADS,
        {"now": now, "jurisdiction": jurisdiction, "max_age": max_position_age_s},
    ):
        warnings.append({"kind": "squad_without_position", **dict(row._mapping)})
    return warnings


DISPUTES = text("""
SELECT e.data->>'from_department' AS department,
       count(*) FILTER (WHERE e.data->>'decision' = 'uphold') AS upheld,
       count(*) FILTER (WHERE e.data->>'decision' = 'reassign') AS reassigned
FROM events e
WHERE e.type = 'clue.dispute_decided'
  AND (CAST(:jurisdiction AS text) IS NULL
       OR e.jurisdiction_path @> ARRAY[CAST(:jurisdiction AS text)])
GROUP BY 1 ORDER BY 1
""")


async def disputes_by_department(
    session: AsyncSession, *, jurisdiction: str | None
) -> list[dict[str, Any]]:
    """Decided disputes per department whose squad returned the clue: upheld (the
    return was wrong) and reassigned (it was right), counted from the event log."""
    rows = await session.execute(DISPUTES, {"jurisdiction": jurisdiction})
    return [dict(row._mapping) for row in rows]
