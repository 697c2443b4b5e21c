"""The relay: moves outbox rows into the event log in commit order and hands them to the bus.

Why a relay: ids taken inside concurrent transactions commit out of order, so a client
resuming `after=<id>` could miss an event that committed late with a smaller id. The relay
is the single writer of `events` (a transaction-level advisory lock elects it per batch,
across every process and host), numbers rows gaplessly in the order it finds them, chains
each to the one before by hash (see audit.chain), and publishes only what has committed.
A crashed relay leaves rows in the outbox for the next.

Wake-ups come from NOTIFY on the outbox channel, with a poll as a safety net.
Publishing is best effort: a bus outage delays pushes; hubs catch up from the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.audit import chain
from command_center.db.session import Database, unavailable
from command_center.realtime.events import Event
from command_center.realtime.outbox import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

RELAY_LOCK_KEY = 0x0C0C_0001
BATCH = 1000

# Taken in its own statement: READ COMMITTED gives the next statement a snapshot that
# already sees the previous relay's commit, so the last event read below is current.
TAKE_LOCK = text(f"SELECT pg_try_advisory_xact_lock({RELAY_LOCK_KEY})")

# Only the relay, under the lock, deletes outbox rows: what this reads is still there
# when WRITE deletes it. `data` comes as text so that its hash is taken over the value
# exactly as PostgreSQL stores it (audit.chain).
PENDING = text(f"""
WITH last AS (SELECT id, hash FROM events ORDER BY id DESC LIMIT 1)
SELECT id AS outbox_id, at, type, clue_id, CAST(data AS text) AS data,
       jurisdiction_path, squad_codes,
       (SELECT id FROM last) AS last_id, (SELECT hash FROM last) AS last_hash
FROM outbox
ORDER BY id
LIMIT {BATCH}
""")

WRITE = text("""
WITH chained AS (
    SELECT * FROM unnest(CAST(:outbox_ids AS bigint[]), CAST(:ids AS bigint[]),
                         CAST(:prev_hashes AS text[]), CAST(:hashes AS text[]))
             AS c(outbox_id, id, prev_hash, hash)
),
moved AS (
    DELETE FROM outbox USING chained WHERE outbox.id = chained.outbox_id
    RETURNING chained.id, outbox.at, outbox.type, outbox.clue_id, outbox.data,
              outbox.jurisdiction_path, outbox.squad_codes, chained.prev_hash, chained.hash
),
written AS (
    INSERT INTO events (id, at, type, clue_id, data, jurisdiction_path, squad_codes,
                        prev_hash, hash)
    SELECT * FROM moved ORDER BY id
    RETURNING 1
)
SELECT count(*) FROM written
""")


async def move_batch(session: AsyncSession) -> list[Event]:
    """Move up to BATCH outbox rows into `events` (caller commits); [] if another relay is busy.

    Each row is numbered after the last event and chained to it: its `prev_hash` is that
    event's `hash`, its own `hash` is computed here (audit.chain.link_hash). Three
    statements — lock, read, move — in the caller's transaction. Raises RuntimeError
    (the caller rolls back) if the outbox changed between read and move, which only a
    writer ignoring the lock could cause.
    """
    if not (await session.execute(TAKE_LOCK)).scalar_one():
        return []
    pending = (await session.execute(PENDING)).all()
    if not pending:
        return []
    events, links = _chained(pending)
    written = await session.execute(
        WRITE,
        {
            "outbox_ids": [row.outbox_id for row in pending],
            "ids": [event.id for event in events],
            "prev_hashes": [prev for prev, _ in links],
            "hashes": [own for _, own in links],
        },
    )
    if written.scalar_one() != len(events):
        raise RuntimeError("outbox rows vanished under the relay lock; batch rolled back")
    return events


def _chained(pending: Sequence[Any]) -> tuple[list[Event], list[tuple[str, str]]]:
    """The events of PENDING's rows, numbered on from the last event, and each one's
    (prev_hash, hash)."""
    prev_hash = pending[0].last_hash or chain.GENESIS
    events: list[Event] = []
    links: list[tuple[str, str]] = []
    for number, row in enumerate(pending, start=(pending[0].last_id or 0) + 1):
        path, squads = tuple(row.jurisdiction_path), tuple(row.squad_codes)
        stored = chain.ChainRow(number, row.at, row.type, row.clue_id, row.data, path, squads)
        own_hash = chain.link_hash(prev_hash, stored)
        links.append((prev_hash, own_hash))
        prev_hash = own_hash
        events.append(
            Event(
                id=number,
                type=row.type,
                at=row.at,
                data=json.loads(row.data),
                jurisdiction_path=path,
                squad_codes=squads,
            )
        )
    return events, links


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
        on_moved: Callable[[list[Event]], None] = lambda events: None,
    ) -> None:
        self._database = database
        self._conninfo = conninfo
        self._publish = publish
        self._on_publish_failed = on_publish_failed
        self._on_moved = on_moved  # told of every batch this relay moved, before publishing
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
        """Move and publish until the outbox is empty or another relay holds the lock.

        Each batch is committed, then `on_moved` is told of it, then it is published: a
        client that sees an event (over the bus, or from a hub's catch-up) finds it counted.
        """
        moved = 0
        while True:
            async with self._database.transaction() as session:
                events = await move_batch(session)
            if not events:
                return moved
            moved += len(events)
            # Told before the publish, with no await in between: from the commit on, a
            # hub's catch-up may read these rows and a client may see them, so whatever
            # counts them (metrics) must have counted them before anyone can ask.
            self._on_moved(events)
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
            except Exception as exc:
                if not unavailable(exc):
                    log.exception("relay round failed; retrying")
                else:  # expected while the database restarts: no traceback
                    log.warning("relay round: database unavailable (%s)", type(exc).__name__)
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
