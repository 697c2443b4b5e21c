"""Deadlines in working hours over the holiday calendar. No I/O."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from command_center.dispatch.calendar import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_16H = datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI)


def local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


def test_hours_carry_over_the_weekend() -> None:
    due = WorkCalendar(zone=SHANGHAI).add(FRIDAY_16H, 3)
    assert local(due) == datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)  # Monday 10:00


def test_a_holiday_is_skipped() -> None:
    calendar = WorkCalendar(zone=SHANGHAI, holidays=frozenset({date(2026, 11, 30)}))
    assert local(calendar.add(FRIDAY_16H, 3)) == datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)


def test_an_adjusted_saturday_is_worked() -> None:
    calendar = WorkCalendar(zone=SHANGHAI, workdays=frozenset({date(2026, 11, 28)}))
    assert local(calendar.add(FRIDAY_16H, 3)) == datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)


def test_the_lunch_break_does_not_count() -> None:
    monday_11h = datetime(2026, 11, 30, 11, 0, tzinfo=SHANGHAI)
    due = WorkCalendar(zone=SHANGHAI).add(monday_11h, 2)
    assert local(due) == datetime(2026, 11, 30, 15, 0, tzinfo=SHANGHAI)


def test_a_start_after_hours_begins_next_morning() -> None:
    monday_20h = datetime(2026, 11, 30, 20, 0, tzinfo=SHANGHAI)
    due = WorkCalendar(zone=SHANGHAI).add(monday_20h, 1)
    assert local(due) == datetime(2026, 12, 1, 9, 30, tzinfo=SHANGHAI)
