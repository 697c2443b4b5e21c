"""The clue's timers (accept time-out and the supervision ladder), kept in PostgreSQL.

Arming replaces every unfired timer of the clue; holds pause them (due_at NULL, the
remaining time kept) and resuming restarts them. The scheduler (supervision.scheduler)
fires them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

ARM = text("""
WITH retired AS (
    UPDATE timers SET fired_at = now(), outcome = 'superseded'
    WHERE clue_id = :clue AND fired_at IS NULL
),
stamped AS (
    UPDATE clues SET dispatched_at = :at WHERE id = :clue
)
INSERT INTO timers (clue_id, kind, due_at)
SELECT :clue, t.kind, t.due_at
FROM unnest(CAST(:kinds AS text[]), CAST(:dues AS timestamptz[])) AS t(kind, due_at)
""")


async def arm(
    session: AsyncSession, clue_id: int, *, at: datetime, due: dict[str, datetime]
) -> None:
    """Note the dispatch time and replace the clue's unfired timers, in one statement
    (intake is the hot path)."""
    await session.execute(
        ARM,
        {"clue": clue_id, "at": at, "kinds": list(due), "dues": list(due.values())},
    )


async def disarm(
    session: AsyncSession, clue_id: int, *, outcome: str, kinds: tuple[str, ...] = ()
) -> None:
    """Retire unfired timers of the clue (all, or only `kinds`), noting why."""
    await session.execute(
        text(
            "UPDATE timers SET fired_at = now(), outcome = :outcome "
            "WHERE clue_id = :clue AND fired_at IS NULL "
            "AND (cardinality(CAST(:kinds AS text[])) = 0 OR kind = ANY(:kinds))"
        ),
        {"clue": clue_id, "outcome": outcome, "kinds": list(kinds)},
    )


async def pause(session: AsyncSession, clue_id: int, now: datetime) -> None:
    await session.execute(
        text(
            "UPDATE timers SET paused_remaining = greatest(due_at - :now, interval '0'), "
            "due_at = NULL WHERE clue_id = :clue AND fired_at IS NULL AND due_at IS NOT NULL"
        ),
        {"clue": clue_id, "now": now},
    )


async def resume(session: AsyncSession, clue_id: int, now: datetime) -> None:
    await session.execute(
        text(
            "UPDATE timers SET due_at = :now + paused_remaining, paused_remaining = NULL "
            "WHERE clue_id = :clue AND fired_at IS NULL AND due_at IS NULL"
        ),
        {"clue": clue_id, "now": now},
    )


async def shift(session: AsyncSession, clue_id: int, by: timedelta, kinds: tuple[str, ...]) -> None:
    """Move unfired timers of `kinds` later (an approved extension)."""
    await session.execute(
        text(
            "UPDATE timers SET due_at = due_at + :by, "
            "paused_remaining = paused_remaining + :by "
            "WHERE clue_id = :clue AND fired_at IS NULL AND kind = ANY(:kinds)"
        ),
        {"clue": clue_id, "by": by, "kinds": list(kinds)},
    )
