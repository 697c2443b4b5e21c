"""Working time: deadlines counted in working hours, over the holiday calendar. No I/O.

A working day is Monday to Friday unless it is a holiday, plus adjusted working days
(调休). Working hours are the periods of a working day, by default 08:30–12:00 and
14:00–17:30 local time (7 hours).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_PERIODS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(14, 0), time(17, 30)),
)
MAX_DAYS = 3 * 366  # a deadline further than this is a configuration error


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    zone: ZoneInfo
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # adjusted working days, weekends included
    periods: tuple[tuple[time, time], ...] = field(default=DEFAULT_PERIODS)

    def is_workday(self, day: date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` working hours after `start` (UTC)."""
        remaining = timedelta(hours=hours)
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(MAX_DAYS):
            if self.is_workday(day):
                for begins, ends in self.periods:
                    opening = datetime.combine(day, begins, self.zone)
                    closing = datetime.combine(day, ends, self.zone)
                    frm = max(local, opening)
                    if frm >= closing:
                        continue
                    if remaining <= closing - frm:
                        return (frm + remaining).astimezone(UTC)
                    remaining -= closing - frm
            day += timedelta(days=1)
        raise ValueError(f"{hours} working hours do not fit in {MAX_DAYS} days")
