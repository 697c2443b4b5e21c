"""Liveness and readiness, as a load balancer or an orchestrator asks for them.

`live`: the process answers (nothing is checked; a failing database is no reason to
restart the process). `ready`: this host can take work — its database connection reaches
a writable primary, the schema is at the migrations this code ships with, and rate limits
are counted (in Redis, or in this process while Redis is away: the host stays ready, and
the answer says it is counting alone). Each check is bounded by CHECK_TIMEOUT.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache
from typing import Any

from alembic.script import ScriptDirectory

from command_center.db.migrate import alembic_config
from command_center.db.session import Database
from command_center.health import repository
from command_center.ratelimit import RateLimiter, RedisRateLimiter
from command_center.realtime.bus import Bus

CHECK_TIMEOUT = 3.0


@cache
def shipped_heads() -> frozenset[str]:
    """The head revisions of the migrations inside this package (read once)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


@dataclass(frozen=True)
class Readiness:
    database: str  # ok | read-only | unreachable
    migrations: str  # current | behind | unknown
    redis: str  # ok | unreachable | not configured (in-process bus)
    rate_limits: str  # redis | per-process | per-process (Redis unreachable)

    @property
    def ready(self) -> bool:
        return self.database == "ok" and self.migrations == "current"

    def body(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ready else "degraded",
            "database": self.database,
            "migrations": self.migrations,
            "redis": self.redis,
            "rate_limits": self.rate_limits,
        }


async def readiness(
    *, database: Database, bus: Bus, limiter: RateLimiter, redis_configured: bool
) -> Readiness:
    database_state, migrations = await _database(database)
    if not redis_configured:
        redis = "not configured (in-process bus)"
    else:
        try:
            redis = "ok" if await asyncio.wait_for(bus.healthy(), CHECK_TIMEOUT) else "unreachable"
        except TimeoutError:
            redis = "unreachable"
    return Readiness(database_state, migrations, redis, rate_limit_mode(limiter, redis))


def rate_limit_mode(limiter: RateLimiter, redis: str) -> str:
    """Where rate limits are counted; with Redis unreachable the limiter counts in this
    process from its next request on (ratelimit.RedisRateLimiter), so say so already."""
    if not isinstance(limiter, RedisRateLimiter):
        return "per-process"
    if limiter.falling_back or redis == "unreachable":
        return "per-process (Redis unreachable)"
    return "redis"


async def _database(database: Database) -> tuple[str, str]:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), database.sessions() as session:
            writable = await repository.writable(session)
            revisions = await repository.schema_revisions(session)
    except Exception:  # unreachable, timed out, refused: all mean "not ready"
        return "unreachable", "unknown"
    migrations = "current" if revisions == shipped_heads() else "behind"
    return ("ok" if writable else "read-only"), migrations
