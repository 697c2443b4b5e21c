"""Duty rosters (shifts per squad) and the holiday calendar, read from CSV. No I/O.

rosters.csv: `squad,weekday,starts,ends[,on_holidays]` — weekday 1 (Monday) … 7, or a
range `1-5`; times `HH:MM` local; `ends` at or before `starts` runs past midnight.
holidays.csv: `date,name[,workday]` — `workday=true` marks an adjusted working day (调休).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from command_center.tabular import Row, parse_bool, read_rows, refuse_if_errors


@dataclass(frozen=True, slots=True)
class Shift:
    squad_code: str
    weekday: int
    starts: time
    ends: time
    on_holidays: bool


@dataclass(frozen=True, slots=True)
class Holiday:
    day: date
    name: str
    workday: bool


def parse_rosters_csv(text: str) -> list[Shift]:
    shifts: list[Shift] = []
    errors: list[str] = []
    for row in read_rows(
        text, required=("squad", "weekday", "starts", "ends"), optional=("on_holidays",)
    ):
        try:
            shifts.extend(_shifts(row))
        except ValueError as exc:
            errors.append(f"line {row.line}: {exc}")
    keys = [(s.squad_code, s.weekday, s.starts) for s in shifts]
    if len(set(keys)) != len(keys):
        errors.append("a squad has two shifts starting at the same time on the same weekday")
    refuse_if_errors(errors)
    return shifts


def _shifts(row: Row) -> list[Shift]:
    days = _weekdays(row.text("weekday"))
    starts, ends = _time(row.text("starts"), "starts"), _time(row.text("ends"), "ends")
    on_holidays = parse_bool(row.text("on_holidays", required=False) or "true", "on_holidays")
    return [Shift(row.text("squad"), day, starts, ends, on_holidays) for day in days]


def _weekdays(text: str) -> list[int]:
    first, _, last = text.partition("-")
    try:
        days = list(range(int(first), int(last or first) + 1))
    except ValueError:
        raise ValueError(f"weekday {text!r} must be 1-7 or a range like 1-5") from None
    if not days or days[0] < 1 or days[-1] > 7:
        raise ValueError(f"weekday {text!r} must be 1-7 or a range like 1-5")
    return days


def _time(text: str, column: str) -> time:
    try:
        return time.fromisoformat(text if len(text) > 4 else f"0{text}")
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a time like 08:30") from None


def parse_holidays_csv(text: str) -> list[Holiday]:
    holidays: list[Holiday] = []
    errors: list[str] = []
    for row in read_rows(text, required=("date", "name"), optional=("workday",)):
        try:
            day = date.fromisoformat(row.text("date"))
            holidays.append(
                Holiday(
                    day,
                    row.text("name"),
                    parse_bool(row.text("workday", required=False) or "false", "workday"),
                )
            )
        except ValueError as exc:
            errors.append(f"line {row.line}: {exc}")
    refuse_if_errors(errors)
    return holidays
