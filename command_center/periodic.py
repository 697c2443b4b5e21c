"""A background task that repeats a round of work until stopped.

A round that raises is logged and the next one runs after the usual pause: a failing
database or peer never stops the loop. There is no overlap: rounds run one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from command_center.db.session import unavailable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self, name: str, work: Callable[[], Awaitable[object]], *, poll_seconds: float
    ) -> None:
        self._name = name
        self._work = work
        self._poll = poll_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._work()
            except Exception as exc:
                if not unavailable(exc):
                    log.exception("%s round failed; retrying", self._name)
                else:  # expected while the database restarts: no traceback
                    log.warning(
                        "%s round: database unavailable (%s)", self._name, type(exc).__name__
                    )
            await asyncio.sleep(self._poll)
