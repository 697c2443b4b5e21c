"""`/health/live`, `/health/ready` (and its old name `/health`) and `/metrics`: never
refused by the per-address limit; ready only on a writable primary at the shipped
migrations; with Redis away the rate limits count per process instead of letting
everything through, and both ready and /metrics say so."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from command_center.db.session import Database
from command_center.settings import Settings
from tests.conftest import DEMO_TEMPLATE, LiveServer, start_server
from tests.metrics_support import scrape, value
from tests.servers import OwnPostgres, OwnRedis
from tests.support import post_tip

PROBES = ("/health", "/health/live", "/health/ready", "/metrics")


async def test_live_and_ready_on_a_healthy_server(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live")
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    for path in ("/health/ready", "/health"):
        ready = await client.get(path)
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["status"] == "ok"
        assert body["database"] == "ok"
        assert body["migrations"] == "current"


@pytest.fixture
def limited_server(database: Database, settings: Settings) -> Iterator[LiveServer]:
    server = start_server(settings.model_copy(update={"address_requests_per_second": 5}))
    yield server
    server.stop()


async def test_probes_are_never_refused_by_the_per_address_limit(
    limited_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=limited_server.url, timeout=10) as client:
        for _ in range(5):  # each round within one second's window of the limit
            flood = [client.get("/open311/v2/services.json") for _ in range(20)]
            probes = [client.get(path) for path in PROBES]
            answers = await asyncio.gather(*flood, *probes)
            assert 429 in {a.status_code for a in answers[:20]}, "the limit is in force"
            assert [a.status_code for a in answers[20:]] == [200] * len(PROBES)


def _server_on_copy(cluster: OwnPostgres, settings: Settings, name: str, sql: str) -> LiveServer:
    url = cluster.copy_of(DEMO_TEMPLATE, name)
    cluster.psql(name, sql)
    return start_server(settings.model_copy(update={"database_url": url, "redis_url": None}))


async def test_not_ready_behind_the_migrations_or_on_a_read_only_database(
    own_postgres: OwnPostgres, settings: Settings
) -> None:
    behind = _server_on_copy(
        own_postgres, settings, "health_behind", "UPDATE alembic_version SET version_num = '0010'"
    )
    read_only = _server_on_copy(
        own_postgres,
        settings,
        "health_read_only",
        "ALTER DATABASE health_read_only SET default_transaction_read_only = on",
    )
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(behind.url + "/health/ready")
            assert answer.status_code == 503
            assert answer.json()["migrations"] == "behind"
            answer = await client.get(read_only.url + "/health")
            assert answer.status_code == 503
            assert answer.json()["database"] == "read-only"
            assert (await client.get(read_only.url + "/health/live")).status_code == 200
    finally:
        behind.stop()
        read_only.stop()


@pytest.fixture
def redis_limited_server(
    database: Database, settings: Settings, own_redis: OwnRedis
) -> Iterator[LiveServer]:
    server = start_server(
        settings.model_copy(update={"redis_url": own_redis.url, "resident_reports_per_minute": 3})
    )
    yield server
    server.stop()


async def test_with_redis_away_limits_count_per_process_and_say_so(
    redis_limited_server: LiveServer, own_redis: OwnRedis
) -> None:
    async with httpx.AsyncClient(base_url=redis_limited_server.url, timeout=10) as client:
        before = (await client.get("/health/ready")).json()
        assert before["rate_limits"] == "redis"
        assert value(await scrape(client), "command_center_rate_limit_fallback") == 0

        own_redis.stop()
        answers = [(await post_tip(client)).status_code for _ in range(5)]
        assert answers == [200, 200, 200, 429, 429], "counted here, not let through"
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, "a host without Redis still takes tips"
        assert ready.json()["redis"] == "unreachable"
        assert ready.json()["rate_limits"] == "per-process (Redis unreachable)"
        assert value(await scrape(client), "command_center_rate_limit_fallback") == 1

        own_redis.start()
        async with asyncio.timeout(15):
            while (await client.get("/health/ready")).json()["rate_limits"] != "redis":
                await asyncio.sleep(0.2)
        await post_tip(client)  # counted in Redis again (a fresh window there)
        assert value(await scrape(client), "command_center_rate_limit_fallback") == 0
