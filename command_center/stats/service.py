"""Use cases of supervision analytics: the overview, indicators by group, the ranking and
the monthly red/black list. Scoped like the clue API (see `scope_of`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal, Role
from command_center.auth.scope import Scope
from command_center.auth.scope import scope_of as scope_within
from command_center.stats import repository
from command_center.stats.model import (
    Counts,
    Dimension,
    RedBlack,
    Row,
    Step,
    Window,
    ranked,
    red_black,
    row,
)
from command_center.stats.periods import Period

WATCHERS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})


def scope_of(by: Principal) -> Scope:
    """Operators, supervisors and admins read statistics, and squads (auth.scope)."""
    return scope_within(
        by, readers=WATCHERS, refusal="statistics are for operators, supervisors, admins and squads"
    )


def window(period: Period, now: datetime) -> Window:
    return Window(start=period.start, end=period.end, cut=period.cutoff(now))


@dataclass(frozen=True, slots=True)
class Overview:
    period: Period
    counts: Counts
    overdue: int
    row: Row


async def overview(
    *, session: AsyncSession, period: Period, now: datetime, scope: Scope
) -> Overview:
    """The wall screen's figures: the period's totals and the clues overdue now."""
    totals = await repository.counts(session, window(period, now), scope, Dimension.TOTAL)
    counts = totals.get(None, (None, Counts()))[1]
    overdue = await repository.overdue_now(session, now=now, scope=scope)
    return Overview(period, counts, overdue, row(None, None, counts))


async def indicators(
    *,
    session: AsyncSession,
    period: Period,
    now: datetime,
    scope: Scope,
    by: Dimension,
    min_due: int = 1,
) -> list[Row]:
    """One row per group with its counts, rates, step times and composite index, ranked
    (groups with fewer than `min_due` due clues are listed last, unranked)."""
    span = window(period, now)
    groups = await repository.counts(session, span, scope, by)
    steps = await repository.step_times(session, span, scope, by)
    rows = []
    for key in groups.keys() | steps.keys():
        name, counts = groups.get(key, (None, Counts()))
        built = row(key, name or key, counts)
        times = {Step(step): value for step, value in steps.get(key, {}).items()}
        rows.append(replace(built, steps=times))
    return ranked(rows, min_due=min_due)


async def total(*, session: AsyncSession, period: Period, now: datetime, scope: Scope) -> Row:
    rows = await indicators(
        session=session, period=period, now=now, scope=scope, by=Dimension.TOTAL
    )
    return rows[0] if rows else row(None, None, Counts())


async def red_black_list(
    *, session: AsyncSession, period: Period, now: datetime, scope: Scope, min_due: int
) -> tuple[list[Row], RedBlack]:
    """The departments' ranking of the period and its red and black lists."""
    ranking = await indicators(
        session=session,
        period=period,
        now=now,
        scope=scope,
        by=Dimension.DEPARTMENT,
        min_due=min_due,
    )
    return ranking, red_black(ranking)


async def worst_overdue(
    *, session: AsyncSession, period: Period, now: datetime, scope: Scope, limit: int = 10
) -> list[dict[str, Any]]:
    return await repository.worst_overdue(session, window(period, now), scope, limit)


async def overdue_at_cut(
    *, session: AsyncSession, period: Period, now: datetime, scope: Scope
) -> int:
    return await repository.overdue_at_cut(session, window(period, now), scope)


async def daily(
    *, session: AsyncSession, period: Period, now: datetime, scope: Scope, zone: str
) -> list[dict[str, Any]]:
    return await repository.daily(session, window(period, now), scope, zone)
