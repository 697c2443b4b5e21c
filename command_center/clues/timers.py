"""The clue's timers (accept time-out and the supervision ladder), kept in PostgreSQL.

Arming replaces every unfired timer of the clue; holds pause them (due_at NULL, the
remaining time kept) and resuming restarts them. The scheduler (supervision.scheduler)
fires them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def arm(session: AsyncSession, clue_id: int, due: dict[str, datetime]) -> None:
    await disarm(session, clue_id, outcome="superseded")
    for kind, at in due.items():
        await session.execute(
            text("INSERT INTO timers (clue_id, kind, due_at) VALUES (:clue, :kind, :at)"),
            {"clue": clue_id, "kind": kind, "at": at},
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
