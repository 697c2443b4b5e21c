"""Use cases of the event log for other features."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal, Role
from command_center.errors import Forbidden
from command_center.realtime import repository
from command_center.realtime.events import Event


async def events_for_clue(*, session: AsyncSession, clue_id: int) -> list[Event]:
    """Every event of one clue, oldest first."""
    return await repository.for_clue(session, clue_id)


async def latest(*, session: AsyncSession, by: Principal, limit: int) -> list[Event]:
    """The newest `limit` events in the principal's scope (what `/ws` would have sent),
    oldest first: what a console shows before live events arrive."""
    if by.role in (Role.RESIDENT, Role.DEVICE):
        raise Forbidden(f"the {by.role.value} role may not read the event log")
    return await repository.latest_in_scope(session, principal=by, limit=limit)
