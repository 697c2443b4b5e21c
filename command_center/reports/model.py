"""What a report holds and how its figures are written for people. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from command_center.stats.model import RedBlack, Row
from command_center.stats.periods import Kind, Period


class ReportKind(StrEnum):
    WEEKLY = "weekly"  # 周报
    MONTHLY = "monthly"  # 月通报

    @property
    def chinese(self) -> str:
        return "周报" if self is ReportKind.WEEKLY else "月通报"

    @property
    def period_kind(self) -> Kind:
        return Kind.WEEK if self is ReportKind.WEEKLY else Kind.MONTH


@dataclass(frozen=True, slots=True)
class ReportData:
    kind: ReportKind
    period: Period
    issuer: str
    scope_name: str
    generated_at: datetime
    cutoff: datetime
    total: Row
    previous: Row
    overdue_at_cut: int
    departments: list[Row]
    districts: list[Row]
    matters: list[Row]
    daily: list[dict[str, Any]]
    worst_overdue: list[dict[str, Any]]
    red_black: RedBlack | None = None
    min_due: int = 1
    charts: dict[str, str] = field(default_factory=dict)

    @property
    def number(self) -> str:
        """The report's number as printed under its title, e.g. 〔2026〕第47期."""
        first = self.period.first_day
        if self.kind is ReportKind.WEEKLY:
            year, week, _ = first.isocalendar()
            return f"〔{year}〕第{week}期"
        return f"〔{first.year}〕第{first.month}期"

    @property
    def heading(self) -> str:
        first, last = self.period.first_day, self.period.last_day
        if self.kind is ReportKind.WEEKLY:
            year, week, _ = first.isocalendar()
            return f"{year}年第{week}周（{first.month}月{first.day}日—{last.month}月{last.day}日）"
        return f"{first.year}年{first.month}月"


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A generated report as the `reports` table keeps it (without its content)."""

    id: int
    kind: str
    label: str
    jurisdiction: str | None
    period_start: datetime
    period_end: datetime
    sha256: str
    size_bytes: int
    generated_at: datetime
    generated_by: dict[str, Any]


def percent(value: float | None, digits: int = 1) -> str:
    """0.8333 → 83.3%; None → —."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def change(current: float | None, before: float | None) -> str:
    """The change of a rate in percentage points, signed: +2.5 个百分点; — when unknown."""
    if current is None or before is None:
        return "—"
    points = (current - before) * 100
    return f"{points:+.1f} 个百分点" if abs(points) >= 0.05 else "持平"


def duration(seconds: float | None) -> str:
    """A step time for people: 36秒, 12分钟, 3.5小时, 2.1天; — when unknown."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f}秒"
    if seconds < 3600:
        return f"{seconds / 60:.0f}分钟"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f}小时"
    return f"{seconds / 86400:.1f}天"


def local_time(moment: datetime | None, period: Period) -> str:
    return "—" if moment is None else f"{moment.astimezone(period.zone):%Y-%m-%d %H:%M}"
