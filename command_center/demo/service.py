"""Whether this database is a demo: marked by `command-center demo-mark`, read by the
simulation header check, the pages' badge and `GET /api/v1/demo`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.db.session import Database
from command_center.demo import repository
from command_center.demo.model import DemoMark
from command_center.errors import InvalidInput

MAX_CITY = 100


async def mark(*, session: AsyncSession, city: str) -> DemoMark:
    """Declare this database a demo of `city` (again: the city is updated)."""
    city = city.strip()
    if not city or len(city) > MAX_CITY:
        raise InvalidInput(f"the city must be 1 to {MAX_CITY} characters")
    return await repository.put(session, city)


async def unmark(*, session: AsyncSession) -> bool:
    """This database is no demo any more; whether it was one."""
    return await repository.remove(session)


@dataclass
class DemoStatus:
    """The mark, read at most every `ttl_seconds` once found (a demo stays a demo; an
    unmark is seen within that time); while there is none it is read on every call, so a
    `demo-mark` is seen at once. A database error propagates: the callers refuse the
    simulation rather than guess."""

    database: Database
    ttl_seconds: float = 5.0
    _mark: DemoMark | None = None
    _read_at: float = field(default=-1e9)

    async def current(self) -> DemoMark | None:
        if self._mark is None or time.monotonic() - self._read_at > self.ttl_seconds:
            async with self.database.sessions() as session:
                self._mark = await repository.get(session)
            self._read_at = time.monotonic()
        return self._mark
