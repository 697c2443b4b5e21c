"""Keeping a clue's timers in step with its life cycle (called by the clue services)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.clues import timers
from command_center.clues.model import State
from command_center.dispatch.model import Route
from command_center.supervision.ladder import FRACTION, Rung, schedule

# Past these states no rung of the ladder applies any more.
LADDER_ENDS = frozenset(
    {
        State.HANDLED,
        State.VERIFIED,
        State.CLOSED,
        State.CANCELLED,
        State.DUPLICATE,
        State.RETURNED,
        State.RECEIVED,
        State.REOPENED,
    }
)


async def on_dispatched(session: AsyncSession, clue_id: int, route: Route) -> None:
    """The route's squad has the clue: the accept clock and the ladder start at `route.now`,
    towards `route.due()`. For a matter counted in working hours the rungs are placed in
    working time too."""
    at, deadline = route.now, route.due()
    if deadline is None:
        await timers.arm(session, clue_id, at=at, due={})
        return
    due = schedule(dispatched_at=at, deadline=deadline, accept_minutes=route.accept_minutes)
    if route.calendar is not None:
        for rung, fraction in FRACTION.items():
            due[rung] = route.due(fraction) or due[rung]
    await timers.arm(session, clue_id, at=at, due={rung.value: when for rung, when in due.items()})


async def on_state(session: AsyncSession, clue_id: int, state: State) -> None:
    """Retire the timers a new state makes pointless."""
    if state is State.ACCEPTED:
        await timers.disarm(
            session, clue_id, outcome="accepted", kinds=(Rung.ACCEPT_TIMEOUT.value,)
        )
    elif state in LADDER_ENDS:
        await timers.disarm(session, clue_id, outcome=f"clue {state.value}")
