"""Rate limits per key (device, address, API key): fixed windows in Redis, or in memory
for a single process. A limiter that cannot reach Redis lets requests through (intake
must not stop because the counter is down) and logs it."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as redis
from redis.exceptions import RedisError

from command_center.errors import RateLimited

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limit:
    requests: int
    per_seconds: int

    @classmethod
    def per_second(cls, rate: float) -> Limit:
        return cls(max(1, math.ceil(rate)), 1)


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: Limit) -> int | None:
        """Count one request; the seconds to wait when over the limit, else None."""
        ...


class MemoryRateLimiter:
    """For one process (no REDIS_URL)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}

    async def hit(self, key: str, limit: Limit) -> int | None:
        now = time.time()
        window = int(now // limit.per_seconds)
        if len(self._counts) > 100_000:
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
        count = self._counts.get((key, window), 0) + 1
        self._counts[(key, window)] = count
        if count <= limit.requests:
            return None
        return max(1, math.ceil((window + 1) * limit.per_seconds - now))


class RedisRateLimiter:
    def __init__(self, url: str, prefix: str) -> None:
        self._client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._prefix = prefix

    async def hit(self, key: str, limit: Limit) -> int | None:
        now = time.time()
        window = int(now // limit.per_seconds)
        name = f"{self._prefix}:{key}:{limit.per_seconds}:{window}"
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, limit.per_seconds + 1)
                count, _ = await pipe.execute()
        except (RedisError, OSError):
            log.warning("rate limiter cannot reach Redis; letting the request through")
            return None
        if int(count) <= limit.requests:
            return None
        return max(1, math.ceil((window + 1) * limit.per_seconds - now))

    async def close(self) -> None:
        await self._client.aclose()


async def enforce(limiter: RateLimiter, checks: list[tuple[str, Limit]], what: str) -> None:
    """Count the request against every (key, limit); RateLimited (429) names `what`."""
    for key, limit in checks:
        wait = await limiter.hit(key, limit)
        if wait is not None:
            raise RateLimited(f"too many {what}; try again in {wait} s", retry_after=wait)
