"""One step of a clue's life, written once: its row, its events and its timers, all in
the caller's transaction (so that a step is stored whole or not at all)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.clues import repository, timing
from command_center.clues.model import State
from command_center.clues.repository import Change
from command_center.dispatch.model import Route
from command_center.realtime import outbox
from command_center.realtime.events import PendingEvent


async def apply(
    session: AsyncSession,
    clue_id: int,
    change: Change,
    events: Sequence[PendingEvent],
    *,
    route: Route | None = None,
) -> None:
    """Write `change` to the clue, record `events`, and keep the timers in step: a clue
    dispatched along `route` starts its accept clock and ladder there; any other state
    retires the timers it makes pointless."""
    await repository.update(session, clue_id, change)
    await outbox.record(session, list(events))
    if route is not None and change.state is State.DISPATCHED:
        await timing.on_dispatched(session, clue_id, route)
    else:
        await timing.on_state(session, clue_id, change.state)
