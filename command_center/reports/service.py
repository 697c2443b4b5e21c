"""Use cases of reports: gather a period's figures, render HTML and PDF, store and serve
them. The figures are the indicators' (stats.service), so a report and the API agree."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal
from command_center.auth.scope import Scope
from command_center.errors import NotFound
from command_center.reports import charts, render, repository
from command_center.reports.model import ReportData, ReportKind, StoredReport
from command_center.stats import service as stats
from command_center.stats.model import Dimension
from command_center.stats.periods import Period

WORST_OVERDUE_SHOWN = 10
MATTERS_SHOWN = 10
RED_BLACK_MIN_DUE = 5


@dataclass(frozen=True, slots=True)
class Rendered:
    data: ReportData
    html: str
    pdf: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


async def gather(
    *,
    session: AsyncSession,
    kind: ReportKind,
    period: Period,
    now: datetime,
    scope: Scope,
    issuer: str,
    min_due: int = RED_BLACK_MIN_DUE,
) -> ReportData:
    """Every figure of one report, as of the period's cut-off."""
    args: dict[str, Any] = {"session": session, "now": now, "scope": scope}
    total = await stats.total(period=period, **args)
    previous = await stats.total(period=period.previous(), **args)
    departments = await stats.indicators(
        period=period, by=Dimension.DEPARTMENT, min_due=min_due, **args
    )
    districts = await stats.indicators(period=period, by=Dimension.DISTRICT, **args)
    matters = await stats.indicators(period=period, by=Dimension.MATTER, **args)
    matters.sort(key=lambda r: (-r.counts.received, -r.counts.due, r.key or ""))
    daily = await stats.daily(period=period, zone=period.zone.key, **args)
    worst = await stats.worst_overdue(period=period, limit=WORST_OVERDUE_SHOWN, **args)
    overdue = await stats.overdue_at_cut(period=period, **args)
    lists = None
    if kind is ReportKind.MONTHLY:
        _, lists = await stats.red_black_list(period=period, min_due=min_due, **args)
    scope_name = ""
    if scope.jurisdiction:
        scope_name = await repository.jurisdiction_name(session, scope.jurisdiction) or ""
    data = ReportData(
        kind=kind,
        period=period,
        issuer=issuer,
        scope_name=scope_name,
        generated_at=now,
        cutoff=period.cutoff(now),
        total=total,
        previous=previous,
        overdue_at_cut=overdue,
        departments=departments,
        districts=sorted(districts, key=lambda r: r.key or ""),
        matters=[m for m in matters if m.counts.received or m.counts.due][:MATTERS_SHOWN],
        daily=daily,
        worst_overdue=worst,
        red_black=lists,
        min_due=min_due,
    )
    data.charts.update(_charts(data))
    return data


def _charts(data: ReportData) -> dict[str, str]:
    by_day = {row["day"]: row for row in data.daily}
    days = data.period.days()
    labels = [f"{d.month}-{d.day}" for d in days]
    return {
        "daily": charts.daily_flow(
            labels,
            [int(by_day[d]["received"]) if d in by_day else 0 for d in days],
            [int(by_day[d]["closed"]) if d in by_day else 0 for d in days],
        ),
        "departments": charts.department_rates(data.departments),
    }


async def render_report(data: ReportData) -> Rendered:
    html = render.report_html(data)
    return Rendered(data, html, await asyncio.to_thread(render.pdf, html))


async def generate(
    *,
    session: AsyncSession,
    kind: ReportKind,
    period: Period,
    now: datetime,
    scope: Scope,
    issuer: str,
) -> Rendered:
    data = await gather(
        session=session, kind=kind, period=period, now=now, scope=scope, issuer=issuer
    )
    return await render_report(data)


async def store(*, session: AsyncSession, rendered: Rendered, scope: Scope, by: Principal) -> int:
    data = rendered.data
    return await repository.insert(
        session,
        kind=data.kind.value,
        label=data.period.label,
        jurisdiction=scope.jurisdiction,
        start=data.period.start,
        end=data.period.end,
        html=rendered.html,
        pdf=rendered.pdf,
        sha256=rendered.sha256,
        by=by.as_actor(),
    )


async def listing(
    *, session: AsyncSession, kind: ReportKind | None, scope: Scope, limit: int
) -> list[StoredReport]:
    return await repository.listing(
        session,
        kind=kind.value if kind else None,
        jurisdiction=scope.jurisdiction,
        limit=limit,
    )


async def fetch(
    *, session: AsyncSession, report_id: int, scope: Scope
) -> tuple[StoredReport, str, bytes]:
    """A stored report inside the caller's scope; NotFound otherwise (a report outside it
    is not even acknowledged)."""
    found = await repository.get(session, report_id, jurisdiction=scope.jurisdiction)
    if found is None:
        raise NotFound(f"no report {report_id}")
    return found
