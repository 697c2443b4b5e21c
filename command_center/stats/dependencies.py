"""The query parameters the statistics endpoints share: the period and its parts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from command_center.dependencies import now_of
from command_center.stats.periods import Period, resolve

PeriodKind = Annotated[str, Query(description="day, week, month or custom")]
OnDate = Annotated[
    str | None, Query(alias="date", description="YYYY-MM-DD inside the period (default today)")
]
Week = Annotated[str | None, Query(description="ISO week, e.g. 2026-W47 (period=week)")]
Month = Annotated[str | None, Query(description="e.g. 2026-11 (period=month)")]
Start = Annotated[str | None, Query(description="first day, YYYY-MM-DD (period=custom)")]
End = Annotated[str | None, Query(description="last day, included (period=custom)")]
MinDue = Annotated[int, Query(ge=1, le=10_000, description="due clues needed to be ranked")]


def period_of(
    request: Request,
    kind: str,
    on: str | None,
    week: str | None = None,
    month: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Period:
    return resolve(
        kind,
        zone=request.app.state.settings.zone,
        now=now_of(request),
        on=on,
        week=week,
        month=month,
        start=start,
        end=end,
    )


def any_period(
    request: Request,
    period: PeriodKind = "month",
    on: OnDate = None,
    week: Week = None,
    month: Month = None,
    start: Start = None,
    end: End = None,
) -> Period:
    """The period named by the query (default: this month)."""
    return period_of(request, period, on, week, month, start, end)


AnyPeriod = Annotated[Period, Depends(any_period)]
