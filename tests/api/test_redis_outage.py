"""A Redis outage delays pushes but loses none: events wait in PostgreSQL and are caught up
from there, and Redis carries them again once it is back.

Uses a Redis server this test starts on its own port, never the machine's.
"""

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.conftest import LiveServer, start_server
from tests.servers import OwnRedis
from tests.support import QINGTIAN, collect, dispatched, listen, quiet, tip_id


async def wait_for_bus(client: httpx.AsyncClient) -> None:
    async with asyncio.timeout(15):
        while (await client.get("/health")).json()["redis"] != "ok":
            await asyncio.sleep(0.1)


@pytest.fixture
def redis_backed_server(
    database: Database, settings: Settings, own_redis: OwnRedis
) -> Iterator[LiveServer]:
    # A long poll, so that only Redis (or its reconnection) can bring events quickly.
    server = start_server(
        settings.model_copy(update={"redis_url": own_redis.url, "outbox_poll_seconds": 60.0})
    )
    yield server
    server.stop()


async def test_redis_stopped_during_intake_loses_nothing(
    redis_backed_server: LiveServer, own_redis: OwnRedis
) -> None:
    server = redis_backed_server
    squad = server.token(Role.SQUAD, squad="QT-01")
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        listen(server.ws_url, squad) as ws,
    ):
        before = await tip_id(client, at=QINGTIAN)
        await collect(ws, dispatched(before), timeout=3)  # Redis carries it, not the poll

        own_redis.stop()
        during = [await tip_id(client, at=QINGTIAN) for _ in range(5)]  # intake still works
        health = await client.get("/health")
        assert health.status_code == 200, "still ready: intake does not need Redis"
        assert health.json()["redis"] == "unreachable"
        caught_up = await collect(ws, dispatched(during[-1]), timeout=10)

        own_redis.start()
        await wait_for_bus(client)
        after = [await tip_id(client, at=QINGTIAN) for _ in range(3)]
        more = await collect(ws, dispatched(after[-1]), timeout=8)  # Redis again, not the poll
        assert await quiet(ws, 0.3) == []

    got = [
        e["data"]["service_request_id"] for e in caught_up + more if e["type"] == "clue.dispatched"
    ]
    assert got == [*during, *after]
    ids = [e["id"] for e in caught_up + more]
    assert ids == sorted(set(ids))
