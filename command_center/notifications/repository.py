"""The only SQL of webhooks: subscriptions, their cursors and the delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

LOCK_BASE = 0x0C0C_1000


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    url: str
    secret: str
    event_types: list[str]
    last_event_id: int
    failures: int


@dataclass(frozen=True, slots=True)
class Listed:
    id: int
    url: str
    event_types: list[str]
    active: bool
    last_event_id: int
    failures: int
    retry_at: datetime | None
    backlog: int


@dataclass(frozen=True, slots=True)
class Delivery:
    at: datetime
    event_id: int
    attempt: int
    status_code: int | None
    error: str | None


async def insert(session: AsyncSession, *, url: str, secret: str, event_types: list[str]) -> int:
    """A new subscription whose cursor is the newest event: it hears what happens next."""
    row = await session.execute(
        text(
            "INSERT INTO webhooks (url, secret, event_types, last_event_id) "
            "VALUES (:url, :secret, :types, (SELECT COALESCE(max(id), 0) FROM events)) "
            "RETURNING id"
        ),
        {"url": url, "secret": secret, "types": event_types},
    )
    return int(row.scalar_one())


async def due_ids(session: AsyncSession, now: datetime) -> list[int]:
    rows = await session.execute(
        text(
            "SELECT id FROM webhooks WHERE active "
            "AND (retry_at IS NULL OR retry_at <= :now) ORDER BY id"
        ),
        {"now": now},
    )
    return list(rows.scalars())


async def claim(session: AsyncSession, webhook_id: int) -> Subscription | None:
    """The subscription, locked for this transaction; None when another process has it
    (or it was removed meanwhile)."""
    locked = await session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_BASE + webhook_id}
    )
    if not locked.scalar_one():
        return None
    row = (
        await session.execute(
            text(
                "SELECT id, url, secret, event_types, last_event_id, failures FROM webhooks "
                "WHERE id = :id AND active FOR UPDATE"
            ),
            {"id": webhook_id},
        )
    ).one_or_none()
    return None if row is None else Subscription(*row)


async def log_attempt(
    session: AsyncSession,
    *,
    webhook_id: int,
    event_id: int,
    attempt: int,
    status: int | None,
    error: str | None,
) -> None:
    await session.execute(
        text(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, status_code, error) "
            "VALUES (:w, :e, :a, :s, :err)"
        ),
        {"w": webhook_id, "e": event_id, "a": attempt, "s": status, "err": error},
    )


async def advance(
    session: AsyncSession,
    webhook_id: int,
    *,
    cursor: int,
    failures: int,
    retry_at: datetime | None,
) -> None:
    await session.execute(
        text(
            "UPDATE webhooks SET last_event_id = :cursor, failures = :f, retry_at = :retry "
            "WHERE id = :id"
        ),
        {"cursor": cursor, "f": failures, "retry": retry_at, "id": webhook_id},
    )


async def listing(session: AsyncSession) -> list[Listed]:
    rows = await session.execute(
        text(
            "SELECT w.id, w.url, w.event_types, w.active, w.last_event_id, w.failures, "
            "w.retry_at, GREATEST((SELECT COALESCE(max(id), 0) FROM events) - w.last_event_id, 0) "
            "FROM webhooks w ORDER BY w.id"
        )
    )
    return [Listed(*row) for row in rows]


async def deactivate(session: AsyncSession, webhook_id: int) -> bool:
    row = await session.execute(
        text("UPDATE webhooks SET active = false WHERE id = :id AND active RETURNING id"),
        {"id": webhook_id},
    )
    return row.scalar_one_or_none() is not None


async def deliveries(session: AsyncSession, webhook_id: int, limit: int) -> Sequence[Delivery]:
    rows = await session.execute(
        text(
            "SELECT at, event_id, attempt, status_code, error FROM webhook_deliveries "
            "WHERE webhook_id = :id ORDER BY id DESC LIMIT :limit"
        ),
        {"id": webhook_id, "limit": limit},
    )
    return [Delivery(*row) for row in rows]


async def exists(session: AsyncSession, webhook_id: int) -> bool:
    row = await session.execute(text("SELECT 1 FROM webhooks WHERE id = :id"), {"id": webhook_id})
    return row.scalar_one_or_none() is not None
