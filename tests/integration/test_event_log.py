"""The event log: gapless ids in commit order, written with the change, never edited."""

import asyncio

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from command_center.db.session import Database
from tests.conftest import LiveServer
from tests.support import tip_id


async def test_concurrent_intake_gives_gapless_ordered_events(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database
) -> None:
    sids = await asyncio.gather(*(tip_id(client) for _ in range(40)))
    async with asyncio.timeout(10):
        while True:
            async with database.sessions() as session:
                pending = (await session.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
            if pending == 0:
                break
            await asyncio.sleep(0.05)
    async with database.sessions() as session:
        ids = list((await session.execute(text("SELECT id FROM events ORDER BY id"))).scalars())
        per_clue = (
            await session.execute(
                text(
                    "SELECT c.service_request_id, array_agg(e.type ORDER BY e.id) AS types "
                    "FROM events e JOIN clues c ON c.id = e.clue_id "
                    "WHERE c.service_request_id = ANY(:sids) GROUP BY 1"
                ),
                {"sids": list(sids)},
            )
        ).all()
    assert ids == list(range(1, len(ids) + 1)), "ids are 1..n without gaps"
    assert len(per_clue) == 40
    assert all(row.types == ["clue.received", "clue.dispatched"] for row in per_clue)


@pytest.mark.parametrize("statement", ["UPDATE events SET type = 'x'", "DELETE FROM events"])
async def test_the_event_log_cannot_be_edited(database: Database, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.transaction() as session:
            await session.execute(text(statement))
