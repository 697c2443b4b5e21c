"""Writing events to the outbox, inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.realtime.events import PendingEvent

NOTIFY_CHANNEL = "command_center_outbox"

INSERT = text(f"""
WITH written AS (
    INSERT INTO outbox (type, clue_id, data, jurisdiction_path, squad_codes)
    SELECT e.value->>'type',
           CAST(e.value->>'clue_id' AS bigint),
           e.value->'data',
           ARRAY(SELECT jsonb_array_elements_text(e.value->'path')),
           ARRAY(SELECT jsonb_array_elements_text(e.value->'squads'))
    FROM jsonb_array_elements(CAST(:events AS jsonb)) WITH ORDINALITY AS e(value, n)
    ORDER BY e.n
    RETURNING 1
)
SELECT pg_notify('{NOTIFY_CHANNEL}', ''), (SELECT count(*) FROM written)
""")


async def record(session: AsyncSession, events: Sequence[PendingEvent]) -> None:
    """Append `events`, in order, to the outbox of the session's transaction.

    They become visible (and are relayed) only if that transaction commits; a rollback
    discards them with the change they describe.
    """
    if not events:
        return
    payload = [
        {
            "type": e.type,
            "clue_id": e.clue_id,
            "data": e.data,
            "path": list(e.jurisdiction_path),
            "squads": list(e.squad_codes),
        }
        for e in events
    ]
    await session.execute(INSERT, {"events": json.dumps(payload, ensure_ascii=False)})
