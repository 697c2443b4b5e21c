"""Redis stopped in the middle of a burst and started again: intake never stops (no tip
is refused), events reach the squads from PostgreSQL meanwhile, and once Redis is back
both workers carry events through it again — the safety-net poll is set to 30 s here, so
only Redis can bring the last tips to their squads within a second or two."""

import asyncio

import redis

from tests.faults.burst import Burst
from tests.faults.helpers import StartFaultServer, eventually
from tests.servers import OwnRedis


async def test_redis_restarted_mid_burst_loses_nothing(
    own_redis: OwnRedis, start_fault_server: StartFaultServer
) -> None:
    started = start_fault_server(redis_url=own_redis.url, OUTBOX_POLL_SECONDS="30")
    channel = started.server.env["EVENT_CHANNEL"]
    client = redis.Redis(port=own_redis.port, socket_connect_timeout=0.5)

    def subscribers() -> int:
        try:
            return int(dict(client.pubsub_numsub(channel)).get(channel.encode(), 0))
        except redis.ConnectionError:
            return 0

    async def restart_redis(burst: Burst) -> None:
        await eventually(lambda: burst.sent >= 80, 30, "a third of the burst sent")
        await asyncio.to_thread(own_redis.stop)
        await asyncio.sleep(3)
        await asyncio.to_thread(own_redis.start)
        await eventually(lambda: subscribers() == 2, 20, "both workers subscribed again")

    try:
        await eventually(lambda: subscribers() == 2, 20, "both workers subscribed")
        result = await started.survive("Redis stopped for 3 s", restart_redis)
    finally:
        client.close()
    assert result.answered == result.sent, "intake does not depend on Redis"
    assert result.slowest_after_fault < 2.0, "Redis carries events again"
