"""`/api/v1/stats/…`: the overview, indicators (JSON and CSV), the ranking and the
monthly red/black list. Scoped by the token (see stats.service.scope_of)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.dependencies import CurrentPrincipal
from command_center.auth.model import Principal
from command_center.dependencies import ReadSession, now_of
from command_center.stats import service
from command_center.stats.dependencies import (
    AnyPeriod,
    MinDue,
    Month,
    OnDate,
    PeriodKind,
    period_of,
)
from command_center.stats.model import Dimension
from command_center.stats.periods import Period
from command_center.stats.schemas import (
    DEFAULT_WEIGHTS,
    IndicatorRow,
    IndicatorsOut,
    OverviewOut,
    PeriodOut,
    RedBlackOut,
    indicators_csv,
)

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])


@router.get("/overview", response_model=OverviewOut)
async def overview(
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
    period: PeriodKind = "day",
    on: OnDate = None,
) -> OverviewOut:
    """Received, dispatched and closed in the period, overdue now, and the closure,
    on-time and satisfaction rates (definitions: docs/features/analytics.md)."""
    scope = service.scope_of(by)
    chosen = period_of(request, period, on)
    figures = await service.overview(
        session=session, period=chosen, now=now_of(request), scope=scope
    )
    return OverviewOut(
        period=PeriodOut.of(chosen),
        received=figures.counts.received,
        dispatched=figures.counts.dispatched,
        closed=figures.counts.closed,
        overdue=figures.overdue,
        closure_rate=figures.row.rates.closure_rate,
        on_time_rate=figures.row.rates.on_time_rate,
        satisfaction_rate=figures.row.rates.satisfaction_rate,
    )


async def _indicators(
    request: Request,
    session: AsyncSession,
    by: Principal,
    group: Dimension,
    chosen: Period,
    min_due: int,
) -> IndicatorsOut:
    scope = service.scope_of(by)
    now = now_of(request)
    rows = await service.indicators(
        session=session, period=chosen, now=now, scope=scope, by=group, min_due=min_due
    )
    return IndicatorsOut(
        period=PeriodOut.of(chosen),
        label=chosen.label,
        cutoff=chosen.cutoff(now).astimezone(chosen.zone),
        by=group.value,
        weights=DEFAULT_WEIGHTS,
        rows=[IndicatorRow.of(r) for r in rows],
    )


@router.get("/indicators", response_model=IndicatorsOut)
async def indicators(
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
    chosen: AnyPeriod,
    group: Annotated[Dimension, Query(alias="by")] = Dimension.DEPARTMENT,
    min_due: MinDue = 1,
) -> IndicatorsOut:
    """Every indicator per department, district or matter, ranked by the composite index."""
    return await _indicators(request, session, by, group, chosen, min_due)


@router.get("/indicators.csv", response_class=Response)
async def indicators_as_csv(
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
    chosen: AnyPeriod,
    group: Annotated[Dimension, Query(alias="by")] = Dimension.DEPARTMENT,
    min_due: MinDue = 1,
) -> Response:
    """The same as CSV (UTF-8 with BOM), one line per group."""
    result = await _indicators(request, session, by, group, chosen, min_due)
    body = indicators_csv(result.rows, label=result.label, by=result.by)
    filename = f"indicators-{group.value}-{chosen.label.replace('..', '_')}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/red-black", response_model=RedBlackOut)
async def red_black(
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
    month: Month = None,
    on: OnDate = None,
    min_due: MinDue = 5,
) -> RedBlackOut:
    """The monthly red/black list (红黑榜) of departments: the top and the bottom of the
    month's ranking by the composite index, among departments with at least `min_due`
    due clues."""
    scope = service.scope_of(by)
    chosen = period_of(request, "month", on, month=month)
    now = now_of(request)
    ranking, lists = await service.red_black_list(
        session=session, period=chosen, now=now, scope=scope, min_due=min_due
    )
    return RedBlackOut(
        period=PeriodOut.of(chosen),
        label=chosen.label,
        cutoff=chosen.cutoff(now).astimezone(chosen.zone),
        min_due=min_due,
        weights=DEFAULT_WEIGHTS,
        red=[IndicatorRow.of(r) for r in lists.red],
        black=[IndicatorRow.of(r) for r in lists.black],
        ranking=[IndicatorRow.of(r) for r in ranking],
    )
