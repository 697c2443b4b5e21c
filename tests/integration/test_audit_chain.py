"""The record as evidence: the relay chains every event, and tampering is found and named.

Tampering is done as the table's owner would (triggers disabled). Where only this test's
session must see it, it is rolled back; where `audit verify` runs in its own process, it
is committed and undone in a `finally`, because the chain is shared by the whole session.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.audit import repository, service
from command_center.audit.chain import GENESIS, Break, Broken, link_hash
from command_center.db.migrate import MIGRATIONS
from command_center.db.session import Database
from command_center.settings import Settings
from tests.conftest import LiveServer
from tests.support import tip_id

ROOT = Path(__file__).resolve().parents[2]

DISPATCHED_EVENT = text(
    "SELECT e.id FROM events e JOIN clues c ON c.id = e.clue_id "
    "WHERE c.service_request_id = :sid AND e.type = 'clue.dispatched'"
)
CHANGE_SQUAD = (
    "UPDATE events SET data = jsonb_set(data, '{squad_code}', '\"XX-99\"') WHERE id = :id"
)


async def settled(database: Database) -> None:
    """Wait until the relay has moved every outbox row into the log."""
    async with asyncio.timeout(10):
        while True:
            async with database.sessions() as session:
                if not (await session.execute(text("SELECT count(*) FROM outbox"))).scalar_one():
                    return
            await asyncio.sleep(0.05)


@pytest.fixture
async def dispatched_event(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database
) -> int:
    """The id of the `clue.dispatched` event of a fresh tip, once every tip is logged;
    the tips are posted one after the other, so later events follow it."""
    sids = [await tip_id(client) for _ in range(6)]
    await settled(database)
    async with database.sessions() as session:
        return int((await session.execute(DISPATCHED_EVENT, {"sid": sids[3]})).scalar_one())


async def as_owner(session: AsyncSession, statement: str, **params: object) -> None:
    """Run `statement` on events with its triggers off, as the table's owner can."""
    await session.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
    await session.execute(text(statement), params)
    await session.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))


async def test_the_relay_writes_an_intact_chain_from_genesis(
    dispatched_event: int, database: Database
) -> None:
    async with database.sessions() as session:
        result = await service.verify(session=session, batch=7)
        first = (await session.execute(text("SELECT prev_hash FROM events WHERE id = 1"))).one()
        last = (
            await session.execute(text("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1"))
        ).one()
    assert result.intact, result.broken
    assert first.prev_hash == GENESIS
    assert (result.events, result.last_hash) == (last.id, last.hash)
    assert result.events >= dispatched_event + 1


async def test_a_changed_row_is_named(dispatched_event: int, database: Database) -> None:
    async with database.sessions() as session:
        await as_owner(session, CHANGE_SQUAD, id=dispatched_event)
        result = await service.verify(session=session, batch=5)
        await session.rollback()
    assert result.broken == Broken(dispatched_event, Break.CHANGED)
    assert result.events == dispatched_event - 1


async def test_a_removed_row_is_named(dispatched_event: int, database: Database) -> None:
    async with database.sessions() as session:
        await as_owner(session, "DELETE FROM events WHERE id = :id", id=dispatched_event)
        result = await service.verify(session=session, batch=5)
        await session.rollback()
    assert result.broken == Broken(dispatched_event, Break.MISSING)


async def test_a_row_rewritten_with_a_new_hash_is_found(
    dispatched_event: int, database: Database
) -> None:
    """Recomputing the changed row's hash does not help: the next row holds the old one."""
    async with database.sessions() as session:
        (before,) = (
            await session.execute(
                text("SELECT prev_hash FROM events WHERE id = :id"), {"id": dispatched_event}
            )
        ).one()
        await as_owner(session, CHANGE_SQUAD, id=dispatched_event)
        rows = await repository.rows_after(
            session, after_id=dispatched_event - 1, upto_id=dispatched_event, limit=1
        )
        await as_owner(
            session,
            "UPDATE events SET hash = :hash WHERE id = :id",
            hash=link_hash(before, rows[0]),
            id=dispatched_event,
        )
        result = await service.verify(session=session)
        await session.rollback()
    assert result.broken == Broken(
        dispatched_event + 1, Break.RELINKED, previous_id=dispatched_event
    )


async def test_the_log_cannot_be_truncated(database: Database) -> None:
    async with database.sessions() as session:
        try:
            with pytest.raises(DBAPIError, match="append-only: TRUNCATE"):
                await session.execute(text("TRUNCATE events"))
        finally:
            await session.rollback()


def test_the_migration_hashes_existing_rows_as_the_relay_does(
    dispatched_event: int, settings: Settings
) -> None:
    """The backfill of revision 0006, over the rows the relay wrote, with their hashes
    wiped first, gives back the same hashes (and is rolled back)."""
    path = next((MIGRATIONS / "versions").glob("0006_*.py"))
    spec = importlib.util.spec_from_file_location("audit_chain_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with sync_connection(settings) as conn:
        written = conn.execute(text("SELECT id, prev_hash, hash FROM events ORDER BY id")).all()
        conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE events SET prev_hash = repeat('f', 64), hash = repeat('f', 64)"))
        migration.backfill(conn)
        again = conn.execute(text("SELECT id, prev_hash, hash FROM events ORDER BY id")).all()
        conn.rollback()
    assert again == written


def test_audit_verify_prints_intact_and_exits_0(dispatched_event: int, settings: Settings) -> None:
    result = audit_verify(settings)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "chain intact" in result.stdout
    assert result.stdout.startswith("audit: ")


def test_audit_verify_names_a_tampered_row_and_exits_1(
    dispatched_event: int, settings: Settings
) -> None:
    with sync_connection(settings) as conn, conn.begin():
        original = conn.execute(
            text("SELECT CAST(data AS text) FROM events WHERE id = :id"), {"id": dispatched_event}
        ).scalar_one()
    with sync_connection(settings) as conn:
        try:
            tamper(conn, CHANGE_SQUAD, id=dispatched_event)
            broken = audit_verify(settings)
        finally:
            tamper(
                conn,
                "UPDATE events SET data = CAST(:data AS jsonb) WHERE id = :id",
                data=original,
                id=dispatched_event,
            )
    assert broken.returncode == 1
    assert broken.stdout.strip() == (
        f"audit: chain broken at event {dispatched_event}: the row was changed after it was written"
    )
    assert "Traceback" not in broken.stderr
    assert audit_verify(settings).returncode == 0, "restored"


def audit_verify(settings: Settings) -> subprocess.CompletedProcess[str]:
    """`command-center audit verify` in its own process, as an administrator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "command_center", "audit", "verify"],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": settings.database_url},
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@contextmanager
def sync_connection(settings: Settings) -> Iterator[Connection]:
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def tamper(conn: Connection, statement: str, **params: object) -> None:
    """Change the log and commit, as an owner bypassing the append-only trigger."""
    with conn.begin():
        conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        conn.execute(text(statement), params)
        conn.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))
