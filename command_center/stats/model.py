"""The indicators, by their definitions, written down once. No I/O.

The SQL (stats.repository) counts; this module turns counts into rates, the composite
index, the ranking and the red/black list. Every rate is a fraction 0..1, or None when
its denominator is zero (nothing was due, nothing was rated).

Definitions, for a period P with cut-off T (the end of P, or now while P runs), over the
event record as it stood at T:

- **received** — clues registered in P (their first `clue.received`).
- **dispatched** — clues sent to a squad in P (at least one `clue.dispatched`).
- **due (应结案数)** — clues closed in P, plus clues whose deadline fell in P and were not
  closed by T. The deadline is the last one the record gave the clue before T (dispatch,
  extension, end of a hold). Not due: clues cancelled or merged as duplicates by T,
  clues on hold at T, clues never dispatched (they have no deadline).
- **closed (结案数)** — due clues whose last `clue.closed` before T is in P and was not
  followed by a reopening before T.
- **closed on time (按期结案数)** — closed clues whose handling that led to the closing
  (`clue.handled`) came no later than the deadline in force at that moment.
- closure rate (结案率) = closed / due; on-time rate (按期结案率) = closed on time / due;
- rework rate (返工率) = due clues sent back for rework / due clues handled at least once;
- extension rate (延期率) = due clues given an extension / due;
- return rate (退回率) = due clues returned by a squad at least once / due;
- satisfaction rate (满意率) = ratings of 4–5 given in P / ratings given in P;
- **overdue** — open clues (dispatched, accepted, on scene; not on hold) past their
  deadline now, whatever the period.
- step times — for each step, the time from its start event to its end event, counted
  in the period its end event falls in: dispatch (received → first dispatched),
  acceptance (dispatched → accepted), arrival (accepted → on scene), handling (on scene
  → handled), closure (handled → closed); mean and 90th percentile, in seconds of
  clock time.

A clue belongs to its current department, district and matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum


class Dimension(StrEnum):
    """What the indicators are grouped by."""

    TOTAL = "total"
    DEPARTMENT = "department"
    DISTRICT = "district"
    MATTER = "matter"


@dataclass(frozen=True, slots=True)
class Window:
    """A period's bounds and the cut-off its figures are computed at."""

    start: datetime
    end: datetime
    cut: datetime


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class Counts:
    received: int = 0
    dispatched: int = 0
    due: int = 0
    closed: int = 0
    closed_on_time: int = 0
    handled: int = 0
    reworked: int = 0
    extended: int = 0
    returned: int = 0
    ratings: int = 0
    satisfied: int = 0


@dataclass(frozen=True, slots=True)
class Rates:
    closure_rate: float | None
    on_time_rate: float | None
    rework_rate: float | None
    extension_rate: float | None
    return_rate: float | None
    satisfaction_rate: float | None


def rates(counts: Counts) -> Rates:
    return Rates(
        closure_rate=rate(counts.closed, counts.due),
        on_time_rate=rate(counts.closed_on_time, counts.due),
        rework_rate=rate(counts.reworked, counts.handled),
        extension_rate=rate(counts.extended, counts.due),
        return_rate=rate(counts.returned, counts.due),
        satisfaction_rate=rate(counts.satisfied, counts.ratings),
    )


class Step(StrEnum):
    DISPATCH = "dispatch"
    ACCEPTANCE = "acceptance"
    ARRIVAL = "arrival"
    HANDLING = "handling"
    CLOSURE = "closure"


# (start event, end event) of each step; the dispatch step ends at the first dispatch.
STEP_EVENTS: dict[Step, tuple[str, str]] = {
    Step.DISPATCH: ("clue.received", "clue.dispatched"),
    Step.ACCEPTANCE: ("clue.dispatched", "clue.accepted"),
    Step.ARRIVAL: ("clue.accepted", "clue.on_scene"),
    Step.HANDLING: ("clue.on_scene", "clue.handled"),
    Step.CLOSURE: ("clue.handled", "clue.closed"),
}


@dataclass(frozen=True, slots=True)
class StepTime:
    count: int
    mean_seconds: float | None
    p90_seconds: float | None


# The composite index (综合指数), 0..100: a weighted mean of these terms. A term whose rate
# is None (nothing rated, nothing handled) is left out and the others' weights are scaled
# up to sum to 1. Rework and return count against a department: 1 − rate.
WEIGHTS: dict[str, float] = {
    "closure_rate": 0.30,
    "on_time_rate": 0.30,
    "satisfaction_rate": 0.20,
    "rework_rate": 0.10,
    "return_rate": 0.10,
}
INVERTED = frozenset({"rework_rate", "return_rate"})
RED_BLACK_SIZE = 3  # at most this many on each list of the monthly red/black list


def composite(values: Rates, weights: dict[str, float] = WEIGHTS) -> float | None:
    """The composite index 0..100, or None when no term can be computed."""
    total, weight_sum = 0.0, 0.0
    for name, weight in weights.items():
        value = getattr(values, name)
        if value is None or weight <= 0:
            continue
        total += weight * (1 - value if name in INVERTED else value)
        weight_sum += weight
    return round(100 * total / weight_sum, 2) if weight_sum else None


@dataclass(frozen=True, slots=True)
class Row:
    """The indicators of one group (a department, district, matter, or everything)."""

    key: str | None
    name: str | None
    counts: Counts
    rates: Rates
    composite: float | None
    rank: int | None = None
    steps: dict[Step, StepTime] = field(default_factory=dict)


def row(key: str | None, name: str | None, counts: Counts) -> Row:
    values = rates(counts)
    return Row(key, name, counts, values, composite(values) if counts.due else None)


def ranked(rows: list[Row], *, min_due: int = 1) -> list[Row]:
    """Rows with at least `min_due` due clues, best first, ranked 1, 2, 2, 4 … by the
    composite index (ties: on-time rate, then more due clues, then key); the others follow
    unranked."""
    eligible = [r for r in rows if r.composite is not None and r.counts.due >= min_due]
    others = [r for r in rows if r not in eligible]
    eligible.sort(
        key=lambda r: (-(r.composite or 0), -(r.rates.on_time_rate or 0), -r.counts.due, r.key)
    )
    out: list[Row] = []
    for position, current in enumerate(eligible, start=1):
        tied = out and out[-1].composite == current.composite
        out.append(replace(current, rank=out[-1].rank if tied else position))
    return out + sorted(others, key=lambda r: r.key or "")


@dataclass(frozen=True, slots=True)
class RedBlack:
    red: list[Row]
    black: list[Row]


def red_black(ranking: list[Row], size: int = RED_BLACK_SIZE) -> RedBlack:
    """The red list (红榜) is the top of the ranking, the black list (黑榜) its bottom:
    `size` each, fewer when fewer than 2 × size departments are ranked (never both)."""
    ranked_rows = [r for r in ranking if r.rank is not None]
    take = min(size, len(ranked_rows) // 2)
    if take == 0:
        return RedBlack([], [])
    return RedBlack(ranked_rows[:take], list(reversed(ranked_rows[-take:])))
