"""The only SQL of the event log (reads; the relay writes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import SEES_NO_CLUE, Principal, Role
from command_center.realtime.events import RECORD_ONLY_PREFIX, Event

COLUMNS = "id, at, type, data, jurisdiction_path, squad_codes"


def _event(row: Any) -> Event:
    return Event(
        id=row.id,
        type=row.type,
        at=row.at,
        data=row.data,
        jurisdiction_path=tuple(row.jurisdiction_path),
        squad_codes=tuple(row.squad_codes),
    )


async def last_id(session: AsyncSession) -> int:
    return int(
        (await session.execute(text("SELECT COALESCE(max(id), 0) FROM events"))).scalar_one()
    )


async def after(session: AsyncSession, *, after_id: int, limit: int) -> list[Event]:
    """Every event with id > after_id, oldest first."""
    rows = await session.execute(
        text(f"SELECT {COLUMNS} FROM events WHERE id > :after ORDER BY id LIMIT :limit"),
        {"after": after_id, "limit": limit},
    )
    return [_event(row) for row in rows]


def scope_filter(principal: Principal) -> tuple[str, dict[str, Any]]:
    """SQL twin of Principal.sees_clue, over the events table."""
    if principal.role is Role.SQUAD:
        return "squad_codes @> ARRAY[CAST(:squad AS text)]", {"squad": principal.squad or ""}
    if principal.role in SEES_NO_CLUE:
        return "FALSE", {}
    if principal.role is Role.SYSTEM:
        return "TRUE", {}
    if principal.jurisdiction is None:
        return "TRUE", {}
    return "jurisdiction_path @> ARRAY[CAST(:jurisdiction AS text)]", {
        "jurisdiction": principal.jurisdiction
    }


async def after_in_scope(
    session: AsyncSession, *, principal: Principal, after_id: int, limit: int
) -> list[Event]:
    """Events a principal may see with id > after_id, oldest first."""
    clause, params = scope_filter(principal)
    rows = await session.execute(
        text(
            f"SELECT {COLUMNS} FROM events WHERE id > :after AND {clause} "
            f"AND type NOT LIKE '{RECORD_ONLY_PREFIX}%' ORDER BY id LIMIT :limit"
        ),
        {"after": after_id, "limit": limit, **params},
    )
    return [_event(row) for row in rows]


async def latest_in_scope(
    session: AsyncSession, *, principal: Principal, limit: int
) -> list[Event]:
    """The newest `limit` events a principal may see, oldest first."""
    clause, params = scope_filter(principal)
    rows = await session.execute(
        text(f"SELECT {COLUMNS} FROM events WHERE {clause} ORDER BY id DESC LIMIT :limit"),
        {"limit": limit, **params},
    )
    return [_event(row) for row in reversed(rows.all())]


async def for_clue(session: AsyncSession, clue_id: int) -> list[Event]:
    rows = await session.execute(
        text(f"SELECT {COLUMNS} FROM events WHERE clue_id = :clue ORDER BY id"), {"clue": clue_id}
    )
    return [_event(row) for row in rows]
