"""The SQL of the scheduler and the supervision ladder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class DueTimer:
    id: int
    clue_id: int
    kind: str
    due_at: datetime


async def claim_due(
    session: AsyncSession, *, now: datetime, limit: int, only_clues: Sequence[int] | None
) -> list[DueTimer]:
    """Due, unfired timers, locked for this transaction; rows another process holds are
    skipped (it is firing them), so each fires exactly once."""
    rows = await session.execute(
        text(
            "SELECT id, clue_id, kind, due_at FROM timers "
            "WHERE fired_at IS NULL AND due_at <= :now "
            "AND (CAST(:only AS bigint[]) IS NULL OR clue_id = ANY(:only)) "
            "ORDER BY due_at, id LIMIT :limit FOR UPDATE SKIP LOCKED"
        ),
        {"now": now, "limit": limit, "only": list(only_clues) if only_clues else None},
    )
    return [DueTimer(**row._mapping) for row in rows]


async def mark_fired(session: AsyncSession, timer_id: int, *, now: datetime, outcome: str) -> None:
    await session.execute(
        text("UPDATE timers SET fired_at = :now, outcome = :outcome WHERE id = :id"),
        {"id": timer_id, "now": now, "outcome": outcome},
    )


async def accept_minutes(session: AsyncSession, matter_code: str) -> int:
    result = await session.execute(
        text("SELECT accept_minutes FROM matters WHERE code = :code"), {"code": matter_code}
    )
    return int(result.scalar_one())


async def next_document_number(session: AsyncSession, kind: str, now: datetime) -> str:
    count = (
        await session.execute(
            text("SELECT count(*) FROM documents WHERE kind = :kind"), {"kind": kind}
        )
    ).scalar_one()
    return f"{kind.upper()}-{now:%Y%m%d}-{int(count) + 1:05d}"


async def add_document(
    session: AsyncSession,
    *,
    clue_id: int,
    kind: str,
    number: str,
    addressee: str,
    body: str,
    issued_at: datetime,
) -> int:
    result = await session.execute(
        text(
            "INSERT INTO documents (clue_id, kind, number, addressee, body, issued_at) "
            "VALUES (:clue, :kind, :number, :addressee, :body, :at) RETURNING id"
        ),
        {
            "clue": clue_id,
            "kind": kind,
            "number": number,
            "addressee": addressee,
            "body": body,
            "at": issued_at,
        },
    )
    return int(result.scalar_one())


async def documents_for(session: AsyncSession, clue_id: int) -> list[dict[str, object]]:
    rows = await session.execute(
        text(
            "SELECT id, kind, number, addressee, body, issued_at FROM documents "
            "WHERE clue_id = :clue ORDER BY id"
        ),
        {"clue": clue_id},
    )
    return [dict(row._mapping) for row in rows]
