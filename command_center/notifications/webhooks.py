"""Signed webhooks with retries and a delivery log.

Each webhook has a cursor (`last_event_id`): its deliverer reads the events after it, in
order, posts each one, and moves the cursor only past those answered 2xx. A failure
stops that webhook's round and sets `retry_at` with exponential backoff; every attempt is
logged in `webhook_deliveries`. A webhook is delivered by one process at a time (a
transaction-level advisory lock per webhook), so events arrive in order, at least once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.db.session import Database
from command_center.errors import InvalidInput
from command_center.notifications.model import SIGNATURE_HEADER, backoff_seconds, sign, wants
from command_center.periodic import Periodic
from command_center.realtime import repository as events_repository

LOCK_BASE = 0x0C0C_1000
BATCH = 200


async def add(*, session: AsyncSession, url: str, event_types: list[str]) -> tuple[int, str]:
    """Subscribe `url`; returns (id, secret). New webhooks start at the current event."""
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise InvalidInput("the webhook URL must be http:// or https://")
    secret = secrets.token_hex(32)
    row = await session.execute(
        text(
            "INSERT INTO webhooks (url, secret, event_types, last_event_id) "
            "VALUES (:url, :secret, :types, (SELECT COALESCE(max(id), 0) FROM events)) "
            "RETURNING id"
        ),
        {"url": url, "secret": secret, "types": event_types},
    )
    return int(row.scalar_one()), secret


async def deliver_round(database: Database, client: httpx.AsyncClient, *, now: datetime) -> int:
    """One pass over every active webhook that is due; returns events delivered."""
    async with database.sessions() as session:
        ids = list(
            (
                await session.execute(
                    text(
                        "SELECT id FROM webhooks WHERE active "
                        "AND (retry_at IS NULL OR retry_at <= :now) ORDER BY id"
                    ),
                    {"now": now},
                )
            ).scalars()
        )
    delivered = 0
    for webhook_id in ids:
        delivered += await _deliver_one(database, client, webhook_id, now)
    return delivered


async def _deliver_one(
    database: Database, client: httpx.AsyncClient, webhook_id: int, now: datetime
) -> int:
    async with database.transaction() as session:
        locked = await session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_BASE + webhook_id}
        )
        if not locked.scalar_one():
            return 0
        hook = (
            await session.execute(
                text(
                    "SELECT url, secret, event_types, last_event_id, failures FROM webhooks "
                    "WHERE id = :id FOR UPDATE"
                ),
                {"id": webhook_id},
            )
        ).one()
        events = await events_repository.after(session, after_id=hook.last_event_id, limit=BATCH)
        cursor, delivered = hook.last_event_id, 0
        for event in events:
            if not wants(hook.event_types, event.type):
                cursor = event.id
                continue
            body = event.public_json().encode()
            status, error = await _post(client, hook.url, hook.secret, body, event.id)
            await session.execute(
                text(
                    "INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, "
                    "status_code, error) VALUES (:w, :e, :a, :s, :err)"
                ),
                {"w": webhook_id, "e": event.id, "a": hook.failures + 1, "s": status, "err": error},
            )
            if status is None or not 200 <= status < 300:
                failures = hook.failures + 1
                await session.execute(
                    text(
                        "UPDATE webhooks SET last_event_id = :cursor, failures = :f, "
                        "retry_at = :retry WHERE id = :id"
                    ),
                    {
                        "cursor": cursor,
                        "f": failures,
                        "id": webhook_id,
                        "retry": now + timedelta(seconds=backoff_seconds(failures)),
                    },
                )
                return delivered
            cursor, delivered = event.id, delivered + 1
        await session.execute(
            text(
                "UPDATE webhooks SET last_event_id = :cursor, failures = 0, retry_at = NULL "
                "WHERE id = :id"
            ),
            {"cursor": cursor, "id": webhook_id},
        )
        return delivered


async def _post(
    client: httpx.AsyncClient, url: str, secret: str, body: bytes, event_id: int
) -> tuple[int | None, str | None]:
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, body),
        "X-Command-Center-Event-Id": str(event_id),
    }
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    return response.status_code, None


class WebhookDeliverer(Periodic):
    """Runs in every server process; webhooks are shared out by their locks."""

    def __init__(
        self, *, database: Database, clock: Callable[[], datetime], poll_seconds: float
    ) -> None:
        self._client = httpx.AsyncClient(timeout=10, follow_redirects=False)
        super().__init__(
            "webhooks",
            lambda: deliver_round(database, self._client, now=clock()),
            poll_seconds=poll_seconds,
        )

    async def stop(self) -> None:
        await super().stop()
        await self._client.aclose()
