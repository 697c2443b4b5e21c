"""The SQL of the readiness check."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def writable(session: AsyncSession) -> bool:
    """Whether this connection reaches a primary that accepts writes (not a standby in
    recovery, not a read-only session), as the service needs for every tip."""
    statement = text(
        "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'"
    )
    row = (await session.execute(statement)).one()
    return bool(row[0])


async def schema_revisions(session: AsyncSession) -> set[str]:
    """The Alembic revisions the database says it is at (empty before the first migrate)."""
    exists = (await session.execute(text("SELECT to_regclass('alembic_version')"))).scalar()
    if exists is None:
        return set()
    rows = await session.execute(text("SELECT version_num FROM alembic_version"))
    return {str(version) for (version,) in rows}
