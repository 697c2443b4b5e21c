"""Use cases of the event log for other features."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.realtime import repository
from command_center.realtime.events import Event


async def events_for_clue(*, session: AsyncSession, clue_id: int) -> list[Event]:
    """Every event of one clue, oldest first."""
    return await repository.for_clue(session, clue_id)
