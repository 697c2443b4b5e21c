"""Where the Redis clients of a process connect: one Redis at REDIS_URL, or whichever
server Redis Sentinel names as the primary of REDIS_SENTINEL_MASTER (redis-py's Sentinel
client asks the sentinels on every new connection, so after a failover the next
connection — a reconnecting subscriber, a retried publish — reaches the new primary).

Redis stays a fast path only: events live in PostgreSQL and the hubs catch up from there,
so nothing is lost when a failover drops messages in flight (Sentinel itself promises
no acknowledged write survives one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from redis.asyncio.sentinel import Sentinel

SENTINEL_TIMEOUT = 1.0  # seconds, for asking a sentinel who the primary is


@dataclass(frozen=True)
class RedisTarget:
    url: str | None
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = "mymaster"

    @property
    def configured(self) -> bool:
        return bool(self.url or self.sentinels)

    def client(self, **options: Any) -> redis.Redis:
        """A client with `options` (time-outs, health checks) for each connection."""
        if self.sentinels:
            sentinel = Sentinel(  # type: ignore[no-untyped-call]
                list(self.sentinels),
                sentinel_kwargs={
                    "socket_connect_timeout": SENTINEL_TIMEOUT,
                    "socket_timeout": SENTINEL_TIMEOUT,
                },
            )
            client: redis.Redis = sentinel.master_for(self.master, **options)
            return client
        assert self.url is not None, "no REDIS_URL nor REDIS_SENTINELS"
        return redis.Redis.from_url(self.url, **options)
