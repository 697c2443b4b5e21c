"""Verifying the record: the whole event log, checked link by link, in bounded memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.audit import chain, repository
from command_center.audit.chain import Broken

BATCH = 5000


@dataclass(frozen=True, slots=True)
class Verification:
    """What a check found: how many events held (1..events), the hash of the last of
    them, and the first broken link if there is one."""

    events: int
    last_hash: str
    broken: Broken | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None

    def __str__(self) -> str:
        if self.broken is not None:
            return str(self.broken)
        if self.events == 0:
            return "0 events, nothing to verify yet"
        return f"{self.events} events, chain intact (last hash {self.last_hash})"


async def length(*, session: AsyncSession) -> int:
    """The id of the newest event: the length of an intact chain."""
    return await repository.last_id(session)


async def verify(
    *,
    session: AsyncSession,
    upto_id: int | None = None,
    batch: int = BATCH,
    progress: Callable[[int], object] = lambda rows: None,
) -> Verification:
    """Check every event up to `upto_id` (default: the newest now) from the first.

    Reads `batch` rows per query, so memory does not grow with the log; events appended
    meanwhile are left for the next check. Stops at the first broken link. `progress` is
    called with the number of rows each batch checked. Uses only what `session` sees, so
    a caller may check its own uncommitted changes.
    """
    upto = await repository.last_id(session) if upto_id is None else upto_id
    last_id, last_hash = 0, chain.GENESIS
    while last_id < upto:
        rows = await repository.rows_after(session, after_id=last_id, upto_id=upto, limit=batch)
        if not rows:
            break
        broken = chain.verify(rows, start_prev=last_hash, start_id=last_id + 1)
        if broken is not None:
            held = [row for row in rows if row.id < broken.event_id]
            if held:
                last_id, last_hash = held[-1].id, held[-1].hash
            return Verification(last_id, last_hash, broken)
        last_id, last_hash = rows[-1].id, rows[-1].hash
        progress(len(rows))
    return Verification(last_id, last_hash)
