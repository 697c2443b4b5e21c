"""Reporting periods: a local day, an ISO week, a month or a custom range. No I/O.

Periods are whole local days in the configured time zone (Asia/Shanghai by default):
a week runs Monday 00:00 to the next Monday 00:00 (ISO 8601 weeks, `2026-W47`), a month
from its first day to the first day of the next. `end` is exclusive. Figures of a period
that has not ended yet are computed up to now (`cutoff`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from command_center.errors import InvalidInput

MAX_CUSTOM_DAYS = 366
WEEK_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")
MONTH_LABEL = re.compile(r"^(\d{4})-(\d{2})$")


class Kind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class Period:
    kind: Kind
    first_day: date
    last_day: date  # inclusive
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time(0), self.zone)

    def cutoff(self, now: datetime) -> datetime:
        """The moment figures are computed at: the end, or now if the period is running."""
        return min(self.end, max(now, self.start))

    @property
    def label(self) -> str:
        """`2026-11-23`, `2026-W47`, `2026-11` or `2026-11-01..2026-11-15`."""
        if self.kind is Kind.DAY:
            return self.first_day.isoformat()
        if self.kind is Kind.WEEK:
            year, week, _ = self.first_day.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind is Kind.MONTH:
            return f"{self.first_day:%Y-%m}"
        return f"{self.first_day.isoformat()}..{self.last_day.isoformat()}"

    def previous(self) -> Period:
        """The period of the same kind just before (a custom range: as many days)."""
        if self.kind is Kind.MONTH:
            return month_of(self.first_day - timedelta(days=1), self.zone)
        length = (self.last_day - self.first_day).days + 1
        shift = timedelta(days=length)
        return Period(self.kind, self.first_day - shift, self.last_day - shift, self.zone)

    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]


def day_of(day: date, zone: ZoneInfo) -> Period:
    return Period(Kind.DAY, day, day, zone)


def week_of(day: date, zone: ZoneInfo) -> Period:
    monday = day - timedelta(days=day.isoweekday() - 1)
    return Period(Kind.WEEK, monday, monday + timedelta(days=6), zone)


def month_of(day: date, zone: ZoneInfo) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(Kind.MONTH, first, following - timedelta(days=1), zone)


def parse_week(label: str, zone: ZoneInfo) -> Period:
    """`2026-W47` → that ISO week; InvalidInput names what is wrong."""
    match = WEEK_LABEL.match(label.strip())
    if not match:
        raise InvalidInput(f"week must look like 2026-W47, not {label!r}")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise InvalidInput(f"{label} is not a week of the ISO calendar") from None
    return week_of(monday, zone)


def parse_month(label: str, zone: ZoneInfo) -> Period:
    """`2026-11` → that month."""
    match = MONTH_LABEL.match(label.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise InvalidInput(f"month must look like 2026-11, not {label!r}")
    return month_of(date(int(match[1]), int(match[2]), 1), zone)


def parse_day(value: str, name: str = "date") -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a date YYYY-MM-DD, not {value!r}") from None


def resolve(
    kind: str,
    *,
    zone: ZoneInfo,
    now: datetime,
    on: str | None = None,
    start: str | None = None,
    end: str | None = None,
    week: str | None = None,
    month: str | None = None,
) -> Period:
    """The period a request names.

    `day`, `week` and `month` take the one containing `on` (a date; default today in
    `zone`), or `week=2026-W47` / `month=2026-11`; `custom` takes `start` and `end`, both
    dates and both included, at most MAX_CUSTOM_DAYS apart.
    """
    try:
        chosen = Kind(kind)
    except ValueError:
        raise InvalidInput(f"period must be day, week, month or custom, not {kind!r}") from None
    day = parse_day(on) if on else now.astimezone(zone).date()
    if chosen is Kind.DAY:
        return day_of(day, zone)
    if chosen is Kind.WEEK:
        return parse_week(week, zone) if week else week_of(day, zone)
    if chosen is Kind.MONTH:
        return parse_month(month, zone) if month else month_of(day, zone)
    if not start or not end:
        raise InvalidInput("a custom period needs start and end (dates, both included)")
    first, last = parse_day(start, "start"), parse_day(end, "end")
    if last < first:
        raise InvalidInput("end must not be before start")
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise InvalidInput(f"a custom period is at most {MAX_CUSTOM_DAYS} days")
    return Period(Kind.CUSTOM, first, last, zone)
