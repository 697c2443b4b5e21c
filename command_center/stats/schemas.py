"""Response shapes of `/api/v1/stats/…` and the CSV export. Times are ISO-8601 with the
offset of TIMEZONE (`2026-11-23T00:00:00+08:00`); rates are fractions 0..1 or null."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from pydantic import BaseModel

from command_center.spreadsheets import safe_cell
from command_center.stats.model import WEIGHTS, Row, Step
from command_center.stats.periods import Period


class PeriodOut(BaseModel):
    kind: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, period: Period) -> PeriodOut:
        return cls(kind=period.kind.value, start=period.start, end=period.end)


class OverviewOut(BaseModel):
    """The wall screen's figures (a stable contract: fields are added, never renamed)."""

    period: PeriodOut
    received: int
    dispatched: int
    closed: int
    overdue: int
    closure_rate: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None


class StepOut(BaseModel):
    count: int
    mean_seconds: float | None
    p90_seconds: float | None


class IndicatorRow(BaseModel):
    key: str | None
    name: str | None
    rank: int | None
    composite: float | None
    received: int
    dispatched: int
    due: int
    closed: int
    closed_on_time: int
    handled: int
    reworked: int
    extended: int
    returned: int
    ratings: int
    satisfied: int
    closure_rate: float | None
    on_time_rate: float | None
    rework_rate: float | None
    extension_rate: float | None
    return_rate: float | None
    satisfaction_rate: float | None
    steps: dict[str, StepOut]

    @classmethod
    def of(cls, row: Row) -> IndicatorRow:
        c, r = row.counts, row.rates
        return cls(
            key=row.key,
            name=row.name,
            rank=row.rank,
            composite=row.composite,
            received=c.received,
            dispatched=c.dispatched,
            due=c.due,
            closed=c.closed,
            closed_on_time=c.closed_on_time,
            handled=c.handled,
            reworked=c.reworked,
            extended=c.extended,
            returned=c.returned,
            ratings=c.ratings,
            satisfied=c.satisfied,
            closure_rate=r.closure_rate,
            on_time_rate=r.on_time_rate,
            rework_rate=r.rework_rate,
            extension_rate=r.extension_rate,
            return_rate=r.return_rate,
            satisfaction_rate=r.satisfaction_rate,
            steps={
                step.value: StepOut(
                    count=t.count, mean_seconds=t.mean_seconds, p90_seconds=t.p90_seconds
                )
                for step, t in row.steps.items()
            },
        )


class IndicatorsOut(BaseModel):
    period: PeriodOut
    label: str
    cutoff: datetime
    by: str
    weights: dict[str, float]
    rows: list[IndicatorRow]


class RedBlackOut(BaseModel):
    period: PeriodOut
    label: str
    cutoff: datetime
    min_due: int
    weights: dict[str, float]
    red: list[IndicatorRow]
    black: list[IndicatorRow]
    ranking: list[IndicatorRow]


COUNT_COLUMNS = (
    "received",
    "dispatched",
    "due",
    "closed",
    "closed_on_time",
    "handled",
    "reworked",
    "extended",
    "returned",
    "ratings",
    "satisfied",
)
RATE_COLUMNS = (
    "closure_rate",
    "on_time_rate",
    "rework_rate",
    "extension_rate",
    "return_rate",
    "satisfaction_rate",
)


def indicators_csv(rows: list[IndicatorRow], *, label: str, by: str) -> str:
    """The indicators as CSV (UTF-8 with a BOM, so that spreadsheet programs read the
    Chinese names): one line per group; rates as fractions with 4 decimals; step times in
    seconds (`acceptance_mean_s`, `acceptance_p90_s`, …)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    step_columns = [f"{s.value}_{m}_s" for s in Step for m in ("mean", "p90")]
    writer.writerow(
        ["period", by, "name", "rank", "composite", *COUNT_COLUMNS, *RATE_COLUMNS, *step_columns]
    )
    for r in rows:
        values = r.model_dump()
        steps = []
        for s in Step:
            t = r.steps.get(s.value)
            steps += [_num(t.mean_seconds, 1) if t else "", _num(t.p90_seconds, 1) if t else ""]
        writer.writerow(
            [
                safe_cell(label),
                safe_cell(r.key or ""),
                safe_cell(r.name or ""),
                r.rank if r.rank is not None else "",
                _num(r.composite, 2),
                *(values[c] for c in COUNT_COLUMNS),
                *(_num(values[c], 4) for c in RATE_COLUMNS),
                *steps,
            ]
        )
    return out.getvalue()


def _num(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


DEFAULT_WEIGHTS = dict(WEIGHTS)
