"""The scheduler: fires due timers, in every server process, each exactly once.

State lives in PostgreSQL (`timers`): a timer is claimed with FOR UPDATE SKIP LOCKED and
marked fired in the same transaction as its effect, so a crash rolls both back (it fires
again later, once) and a second process never sees it. `tick(now)` does one round with
an explicit time, which is what tests and a controllable clock use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from command_center.db.session import Database
from command_center.periodic import Periodic
from command_center.supervision import repository, service

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


class Scheduler(Periodic):
    """Fires due timers every `poll_seconds`, at the time `clock` says."""

    def __init__(
        self, *, database: Database, clock: Callable[[], datetime], poll_seconds: float
    ) -> None:
        super().__init__(
            "scheduler", lambda: tick(database, now=clock()), poll_seconds=poll_seconds
        )
