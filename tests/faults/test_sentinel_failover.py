"""The Redis primary is killed mid-burst with Redis Sentinel watching: the sentinels
promote the replica, every worker's subscriber (redis-py's Sentinel client, chosen by
REDIS_SENTINELS) finds it by itself, and the squads' websockets miss nothing and get
nothing twice — what Redis dropped in the switch the hubs fill in from the event log.
OUTBOX_POLL_SECONDS is 30 here, so only Redis can bring the last tips in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.faults.burst import Burst
from tests.faults.helpers import COUNTS, StartFaultServer, eventually
from tests.sentinel import DOWN_AFTER_MS, SentinelRedis


@pytest.fixture
def sentinel_redis(tmp_path: Path) -> Iterator[SentinelRedis]:
    servers = SentinelRedis(tmp_path)
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()


async def test_redis_primary_killed_mid_burst_websockets_miss_nothing(
    sentinel_redis: SentinelRedis, start_fault_server: StartFaultServer
) -> None:
    servers = sentinel_redis
    started = start_fault_server(
        redis_url=None, REDIS_SENTINELS=servers.sentinels, OUTBOX_POLL_SECONDS="30"
    )
    channel = started.server.env["EVENT_CHANNEL"]

    def subscribers() -> int:
        client = redis.Redis(port=servers.master_port(), socket_connect_timeout=0.5)
        try:
            return int(dict(client.pubsub_numsub(channel)).get(channel.encode(), 0))
        except redis.RedisError:
            return 0
        finally:
            client.close()

    switched: dict[str, float] = {}

    async def kill_primary(burst: Burst) -> None:
        await eventually(lambda: burst.sent >= 80, 30, "a third of the burst sent")
        old = servers.master_port()
        await asyncio.to_thread(servers.kill_primary)
        start = time.monotonic()
        await eventually(lambda: servers.master_port() != old, 30, "the replica promoted")
        switched["promoted"] = time.monotonic() - start
        await eventually(lambda: subscribers() == 2, 20, "both workers subscribed again")
        switched["resubscribed"] = time.monotonic() - start

    await eventually(lambda: subscribers() == 2, 20, "both workers subscribed")
    result = await started.survive("Redis primary SIGKILLed (Sentinel)", kill_primary)
    COUNTS[-1] += (
        f"; replica promoted after {switched['promoted']:.1f} s, both workers on it after "
        f"{switched['resubscribed']:.1f} s (down-after {DOWN_AFTER_MS} ms)"
    )
    print(COUNTS[-1])
    assert result.answered == result.sent, "intake does not depend on Redis"
    assert result.slowest_after_fault < 2.0, "Redis (the new primary) carries events again"
    assert "Traceback" not in started.server.log_text()
