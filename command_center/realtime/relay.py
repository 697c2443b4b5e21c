"""The relay: moves outbox rows into the event log in commit order and hands them to the bus.

Why a relay: ids taken inside concurrent transactions commit out of order, so a client
resuming `after=<id>` could miss an event that committed late with a smaller id. The relay
is the single writer of `events` (a transaction-level advisory lock elects it per batch,
across every process and host), numbers rows gaplessly in the order it finds them, and
publishes only what has committed. A crashed relay leaves rows in the outbox for the next.

Wake-ups come from NOTIFY on the outbox channel, with a poll as a safety net.
Publishing is best effort: a bus outage delays pushes; hubs catch up from the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.db.session import Database
from command_center.realtime.events import Event
from command_center.realtime.outbox import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

RELAY_LOCK_KEY = 0x0C0C_0001
BATCH = 1000

# Taken in its own statement: READ COMMITTED gives the next statement a snapshot that
# already sees the previous relay's commit, so max(id) below is current.
TAKE_LOCK = text(f"SELECT pg_try_advisory_xact_lock({RELAY_LOCK_KEY})")

MOVE = text(f"""
WITH batch AS (
    DELETE FROM outbox
    WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT {BATCH})
    RETURNING *
),
numbered AS (
    SELECT batch.*, row_number() OVER (ORDER BY batch.id) AS n FROM batch
),
last AS (
    SELECT COALESCE(max(id), 0) AS id FROM events
)
INSERT INTO events (id, at, type, clue_id, data, jurisdiction_path, squad_codes)
SELECT last.id + numbered.n, numbered.at, numbered.type, numbered.clue_id, numbered.data,
       numbered.jurisdiction_path, numbered.squad_codes
FROM numbered, last
ORDER BY numbered.n
RETURNING id, at, type, data, jurisdiction_path, squad_codes
""")


async def move_batch(session: AsyncSession) -> list[Event]:
    """Move up to BATCH outbox rows into `events` (caller commits); [] if another relay is busy."""
    if not (await session.execute(TAKE_LOCK)).scalar_one():
        return []
    rows = await session.execute(MOVE)
    events = [
        Event(
            id=row.id,
            type=row.type,
            at=row.at,
            data=row.data,
            jurisdiction_path=tuple(row.jurisdiction_path),
            squad_codes=tuple(row.squad_codes),
        )
        for row in rows
    ]
    events.sort(key=lambda e: e.id)
    return events


Publish = Callable[[list[Event]], Awaitable[None]]


class Relay:
    """Runs in every server process; at any moment at most one of them moves rows."""

    def __init__(
        self,
        *,
        database: Database,
        conninfo: str,
        publish: Publish,
        poll_seconds: float,
        on_publish_failed: Callable[[], None] = lambda: None,
    ) -> None:
        self._database = database
        self._conninfo = conninfo
        self._publish = publish
        self._on_publish_failed = on_publish_failed
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="relay-listen"),
            asyncio.create_task(self._run(), name="relay-run"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        self._wake.set()

    async def drain(self) -> int:
        """Move and publish until the outbox is empty or another relay holds the lock."""
        moved = 0
        while True:
            async with self._database.transaction() as session:
                events = await move_batch(session)
            if not events:
                return moved
            moved += len(events)
            try:
                await self._publish(events)
            except Exception:  # the bus is best effort; hubs catch up from the table
                log.warning("publishing %d events failed; hubs will catch up", len(events))
                self._on_publish_failed()
            if len(events) < BATCH:
                return moved

    async def _run(self) -> None:
        while True:
            try:
                await self.drain()
            except Exception:
                log.exception("relay round failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            self._wake.clear()

    async def _listen(self) -> None:
        """LISTEN for outbox commits; reconnects after a database outage."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=5
                ) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.wake()
                    async for _ in conn.notifies():
                        self.wake()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox LISTEN connection lost; reconnecting")
                await asyncio.sleep(min(self._poll, 1.0))
