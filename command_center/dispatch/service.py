"""Use cases of dispatch: routing a location and a matter to a squad."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.dispatch import repository
from command_center.dispatch.model import EMPTY_ROUTE, Route

__all__ = ["EMPTY_ROUTE", "Route", "route"]


async def route(
    *,
    session: AsyncSession,
    lon: float,
    lat: float,
    matter_code: str,
    prefer_squad: str | None = None,
) -> Route:
    """Resolve a WGS84 point and a matter to jurisdiction, department and nearest squad.

    `prefer_squad` wins over distance when it is eligible (on duty, right department,
    serving the place) — used to send a reopened clue back to the squad that handled it.
    Never raises for a point outside every jurisdiction: the Route says so.
    """
    return await repository.route(
        session, lon=lon, lat=lat, matter_code=matter_code, prefer=prefer_squad
    )
