"""The scheduler: fires due timers, in every server process, each exactly once.

State lives in PostgreSQL (`timers`): a timer is claimed with FOR UPDATE SKIP LOCKED and
marked fired in the same transaction as its effect, so a crash rolls both back (it fires
again later, once) and a second process never sees it. `tick(now)` does one round with
an explicit time, which is what tests and a controllable clock use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from command_center.db.session import Database
from command_center.supervision import repository, service

log = logging.getLogger(__name__)

BATCH = 50


async def tick(
    database: Database, *, now: datetime, only_clues: Sequence[int] | None = None
) -> int:
    """Fire every timer due at `now` (of `only_clues`, when given: a manual sweep of a few
    clues); returns how many fired."""
    fired = 0
    while True:
        async with database.transaction() as session:
            due = await repository.claim_due(session, now=now, limit=BATCH, only_clues=only_clues)
            for timer in due:
                outcome = await service.fire(session, timer=timer, now=now)
                await repository.mark_fired(session, timer.id, now=now, outcome=outcome)
        fired += len(due)
        if len(due) < BATCH:
            return fired


class Scheduler:
    def __init__(
        self, *, database: Database, clock: Callable[[], datetime], poll_seconds: float
    ) -> None:
        self._database = database
        self._clock = clock
        self._poll = poll_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await tick(self._database, now=self._clock())
            except Exception:
                log.exception("scheduler round failed; retrying")
            await asyncio.sleep(self._poll)
