"""Use cases of dispatch: routing a location and a matter to the best eligible squad."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.dispatch import repository
from command_center.dispatch.calendar import WorkCalendar
from command_center.dispatch.model import DEFAULT_POLICY, EMPTY_ROUTE, DispatchPolicy, Route
from command_center.dispatch.ranking import rank

__all__ = ["DEFAULT_POLICY", "EMPTY_ROUTE", "DispatchPolicy", "Route", "route", "suggest"]


async def route(
    *,
    session: AsyncSession,
    lon: float,
    lat: float,
    matter_code: str,
    prefer_squad: str | None = None,
    exclude: frozenset[str] = frozenset(),
    now: datetime | None = None,
    policy: DispatchPolicy | None = None,
    department: str | None = None,
) -> Route:
    """Resolve a WGS84 point and a matter to jurisdiction, department and the best squad.

    Eligible squads (on shift, or on duty without a roster) of the matter's department
    that serve the place or a place above it are ranked (see dispatch.ranking); squads in
    `exclude` are skipped. `prefer_squad` wins when it is eligible. `department` replaces
    the matter's (a dispute decided for another department). Never raises for a
    point outside every jurisdiction or an unknown matter: the Route says so. The policy
    defaults to the one the app put in `session.info["dispatch_policy"]`.
    """
    policy = policy or session.info.get("dispatch_policy") or DEFAULT_POLICY
    place = await repository.place(session, lon=lon, lat=lat, matter_code=matter_code, now=now)
    responsible = department or place.department
    base = Route(
        jurisdiction_code=place.jurisdiction_code,
        jurisdiction_path=tuple(place.jurisdiction_path or ()),
        matter_code=place.matter_code,
        department=responsible,
        deadline_hours=place.deadline_hours,
        squad_code=None,
        distance_m=None,
        serving_squads=0,
        on_duty_squads=0,
        now=place.now,
        duplicate_radius_m=place.duplicate_radius_m or 0,
        duplicate_window_hours=place.duplicate_window_hours or 0,
        accept_minutes=place.accept_minutes or 10,
        joint_departments=tuple(place.joint_departments or ()),
        calendar=await _calendar(session, place.now, policy, place.deadline_hours)
        if place.working_hours
        else None,
    )
    if place.jurisdiction_code is None or responsible is None:
        return base
    candidates = await repository.candidates(
        session,
        lon=lon,
        lat=lat,
        department=responsible,
        domain=place.domain,
        path=list(base.jurisdiction_path),
        now=place.now,
        zone=policy.zone,
        max_position_age_s=policy.max_position_age_s,
    )
    ranked = rank(candidates, policy.weights, exclude=exclude)
    preferred = [c for c in ranked if c.squad_code == prefer_squad]
    if preferred:
        ranked = preferred + [c for c in ranked if c.squad_code != prefer_squad]
    best = ranked[0] if ranked else None
    return replace(
        base,
        squad_code=best.squad_code if best else None,
        distance_m=round(best.distance_m, 1) if best else None,
        serving_squads=len(candidates),
        on_duty_squads=sum(c.eligible for c in candidates),
        ranking=tuple(c.explain(policy.weights) for c in ranked[:3]),
        excluded=tuple(sorted(exclude)),
    )


async def _calendar(
    session: AsyncSession, now: datetime, policy: DispatchPolicy, deadline_hours: int | None
) -> WorkCalendar:
    # 7 working hours a day, 5 days a week, with room for the ladder's 150 % and holidays.
    days = int((deadline_hours or 0) * 1.5 / 7 * 7 / 5) + 40
    holidays, workdays = await repository.calendar_days(session, start=now, days=days)
    return WorkCalendar(zone=ZoneInfo(policy.zone), holidays=holidays, workdays=workdays)


async def suggest(
    *,
    session: AsyncSession,
    lon: float,
    lat: float,
    matter_code: str,
    department: str | None = None,
    now: datetime | None = None,
    policy: DispatchPolicy | None = None,
) -> list[dict[str, Any]]:
    """Every squad of the department serving the place, explained as `route` ranks them:
    the eligible ones best first (`rank` 1 is the one `route` would choose), then the
    ineligible ones (off duty, off shift) nearest first with `rank` None. Empty for a
    point outside every jurisdiction or an unknown matter."""
    policy = policy or session.info.get("dispatch_policy") or DEFAULT_POLICY
    place = await repository.place(session, lon=lon, lat=lat, matter_code=matter_code, now=now)
    responsible = department or place.department
    if place.jurisdiction_code is None or responsible is None:
        return []
    candidates = await repository.candidates(
        session,
        lon=lon,
        lat=lat,
        department=responsible,
        domain=place.domain,
        path=list(place.jurisdiction_path or ()),
        now=place.now,
        zone=policy.zone,
        max_position_age_s=policy.max_position_age_s,
    )
    ranked = rank(candidates, policy.weights)
    rest = sorted((c for c in candidates if c not in ranked), key=lambda c: c.distance_m)
    return [
        {**c.explain(policy.weights), "eligible": True, "rank": n}
        for n, c in enumerate(ranked, start=1)
    ] + [{**c.explain(policy.weights), "eligible": False, "rank": None} for c in rest]
