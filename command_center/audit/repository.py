"""The only SQL of the audit: reading the event log as chain rows, oldest first."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.audit.chain import ChainRow

LAST = text("SELECT id FROM events ORDER BY id DESC LIMIT 1")

# `data` as text: the hash covers the jsonb value exactly as PostgreSQL prints it.
ROWS = text("""
SELECT id, at, type, clue_id, CAST(data AS text) AS data, jurisdiction_path, squad_codes,
       prev_hash, hash
FROM events
WHERE id > :after AND id <= :upto
ORDER BY id
LIMIT :limit
""")


async def last_id(session: AsyncSession) -> int:
    """The id of the newest event, 0 when there is none."""
    return int((await session.execute(LAST)).scalar_one_or_none() or 0)


async def rows_after(
    session: AsyncSession, *, after_id: int, upto_id: int, limit: int
) -> list[ChainRow]:
    """At most `limit` rows with after_id < id <= upto_id, in id order."""
    result = await session.execute(ROWS, {"after": after_id, "upto": upto_id, "limit": limit})
    return [
        ChainRow(
            id=row.id,
            at=row.at,
            type=row.type,
            clue_id=row.clue_id,
            data=row.data,
            jurisdiction_path=tuple(row.jurisdiction_path),
            squad_codes=tuple(row.squad_codes),
            prev_hash=row.prev_hash,
            hash=row.hash,
        )
        for row in result
    ]
