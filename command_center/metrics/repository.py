"""The SQL of the database figures `/metrics` reports at each scrape."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

FIGURES = text("""
SELECT
  (SELECT count(*) FROM clues WHERE state IN ('dispatched', 'accepted', 'on_scene')
     AND on_hold_since IS NULL AND deadline < :now) AS overdue,
  (SELECT count(*) FROM clues WHERE state IN ('received', 'returned')
     OR (state = 'reopened' AND squad_code IS NULL)) AS operator_queue,
  (SELECT count(*) FROM outbox) AS outbox,
  (SELECT count(*) FROM timers WHERE fired_at IS NULL AND due_at <= :now) AS timers_due,
  (SELECT COALESCE(sum(greatest((SELECT COALESCE(max(id), 0) FROM events) - last_event_id, 0)),
                   0)
     FROM webhooks WHERE active) AS webhook_backlog
""")


async def figures(session: AsyncSession, now: datetime) -> dict[str, int]:
    row = (await session.execute(FIGURES, {"now": now})).one()
    return {key: int(value) for key, value in row._mapping.items()}
