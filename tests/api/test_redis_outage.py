"""A Redis outage delays pushes but loses none: events wait in PostgreSQL and are caught up
from there, and Redis carries them again once it is back.

Uses a Redis server this test starts on its own port, never the machine's.
"""

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.conftest import LiveServer, free_port, start_server
from tests.support import QINGTIAN, collect, dispatched, listen, quiet, tip_id


async def wait_for_bus(client: httpx.AsyncClient) -> None:
    async with asyncio.timeout(15):
        while (await client.get("/health")).status_code != 200:
            await asyncio.sleep(0.1)


class OwnRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/test installs it)"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


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
        assert health.status_code == 503
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
