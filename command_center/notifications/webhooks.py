"""Signed webhooks with retries and a delivery log.

Each webhook has a cursor (`last_event_id`): its deliverer reads the events after it, in
order, posts each one, and moves the cursor only past those answered 2xx. A failure
stops that webhook's round and sets `retry_at` with exponential backoff; every attempt is
logged in `webhook_deliveries`. A webhook is delivered by one process at a time (a
transaction-level advisory lock per webhook), so events arrive in order, at least once.

Webhooks are delivered side by side (at most `concurrency` at once, each on its own
connection): a receiver that hangs until the request times out delays only itself.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.db.session import Database
from command_center.errors import InvalidInput, NotFound
from command_center.notifications import repository
from command_center.notifications.model import (
    SIGNATURE_HEADER,
    backoff_seconds,
    sign,
    standard_headers,
    wants,
)
from command_center.notifications.repository import Delivery, Listed
from command_center.periodic import Periodic
from command_center.realtime import repository as events_repository

BATCH = 200
CONCURRENCY = 4
TIMEOUT_SECONDS = 10.0


async def add(*, session: AsyncSession, url: str, event_types: list[str]) -> tuple[int, str]:
    """Subscribe `url`; returns (id, secret). New webhooks start at the current event."""
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise InvalidInput("the webhook URL must be http:// or https://")
    secret = secrets.token_hex(32)
    hook_id = await repository.insert(session, url=url, secret=secret, event_types=event_types)
    return hook_id, secret


async def listing(*, session: AsyncSession) -> list[Listed]:
    """Every subscription (removed ones too), with how many events it is behind."""
    return await repository.listing(session)


async def remove(*, session: AsyncSession, webhook_id: int) -> None:
    """Stop delivering to a webhook; its delivery log is kept. NotFound if unknown or
    already removed."""
    if not await repository.deactivate(session, webhook_id):
        raise NotFound(f"no active webhook {webhook_id}")


async def deliveries(
    *, session: AsyncSession, webhook_id: int, limit: int = 50
) -> Sequence[Delivery]:
    """The newest attempts first. NotFound if the webhook never existed."""
    if not await repository.exists(session, webhook_id):
        raise NotFound(f"no webhook {webhook_id}")
    return await repository.deliveries(session, webhook_id, limit)


async def deliver_round(
    database: Database,
    client: httpx.AsyncClient,
    *,
    now: datetime,
    concurrency: int = CONCURRENCY,
) -> int:
    """One pass over every active webhook that is due; returns events delivered."""
    async with database.sessions() as session:
        ids = await repository.due_ids(session, now)
    gate = asyncio.Semaphore(concurrency)

    async def one(webhook_id: int) -> int:
        async with gate:
            return await _deliver_one(database, client, webhook_id, now)

    return sum(await asyncio.gather(*(one(webhook_id) for webhook_id in ids)))


async def _deliver_one(
    database: Database, client: httpx.AsyncClient, webhook_id: int, now: datetime
) -> int:
    async with database.transaction() as session:
        hook = await repository.claim(session, webhook_id)
        if hook is None:
            return 0
        events = await events_repository.after(session, after_id=hook.last_event_id, limit=BATCH)
        cursor, delivered = hook.last_event_id, 0
        for event in events:
            if not wants(hook.event_types, event.type):
                cursor = event.id
                continue
            body = event.public_json().encode()
            status, error = await _post(client, hook.url, hook.secret, body, event.id)
            await repository.log_attempt(
                session,
                webhook_id=webhook_id,
                event_id=event.id,
                attempt=hook.failures + 1,
                status=status,
                error=error,
            )
            if status is None or not 200 <= status < 300:
                failures = hook.failures + 1
                retry_at = now + timedelta(seconds=backoff_seconds(failures))
                await repository.advance(
                    session, webhook_id, cursor=cursor, failures=failures, retry_at=retry_at
                )
                return delivered
            cursor, delivered = event.id, delivered + 1
        await repository.advance(session, webhook_id, cursor=cursor, failures=0, retry_at=None)
        return delivered


async def _post(
    client: httpx.AsyncClient, url: str, secret: str, body: bytes, event_id: int
) -> tuple[int | None, str | None]:
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, body),
        "X-Command-Center-Event-Id": str(event_id),
        **standard_headers(secret, str(event_id), int(time.time()), body),
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
        self._client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        super().__init__(
            "webhooks",
            lambda: deliver_round(database, self._client, now=clock()),
            poll_seconds=poll_seconds,
        )

    async def stop(self) -> None:
        await super().stop()
        await self._client.aclose()
