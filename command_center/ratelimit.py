"""Rate limits per key (device, address, API key): fixed windows in Redis, or in memory
for a single process. A limiter that cannot reach Redis counts in this process instead
(intake must not stop because the counter is down, nor go uncounted): with N processes
a key may then make up to N × the limit. It says so (`falling_back`, shown by
`/health/ready` and `/metrics`) and tries Redis again after `RETRY_REDIS_SECONDS`."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from redis.exceptions import RedisError

from command_center.errors import RateLimited
from command_center.redisconn import RedisTarget

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


RETRY_REDIS_SECONDS = 2.0  # per-process counting lasts at least this long after a failure


class RedisRateLimiter:
    """Counts in Redis, shared by every process; in this process while Redis is away.

    After a failed call every request for the next RETRY_REDIS_SECONDS is counted in
    memory without trying Redis (so an outage costs no connect time-out per request);
    the first successful call afterwards ends the fallback. Counts made during the
    fallback are not carried into Redis."""

    def __init__(self, target: RedisTarget, prefix: str) -> None:
        self._client = target.client(socket_connect_timeout=1, socket_timeout=1)
        self._prefix = prefix
        self._fallback = MemoryRateLimiter()
        self._failed_at: float | None = None  # time.monotonic() of the last failure

    @property
    def falling_back(self) -> bool:
        """Whether requests are counted in this process now: Redis failed less than
        RETRY_REDIS_SECONDS ago (the next request after that tries Redis again)."""
        return self._failed_at is not None and (
            time.monotonic() - self._failed_at < RETRY_REDIS_SECONDS
        )

    async def hit(self, key: str, limit: Limit) -> int | None:
        if self.falling_back:
            return await self._fallback.hit(key, limit)
        now = time.time()
        window = int(now // limit.per_seconds)
        name = f"{self._prefix}:{key}:{limit.per_seconds}:{window}"
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, limit.per_seconds + 1)
                count, _ = await pipe.execute()
        except (RedisError, OSError):
            if self._failed_at is None:
                log.warning("rate limiter cannot reach Redis; counting in this process")
            self._failed_at = time.monotonic()
            return await self._fallback.hit(key, limit)
        if self._failed_at is not None:
            log.info("rate limiter reaches Redis again")
            self._failed_at = None
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
