"""The indicator definitions and reporting periods, without I/O."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from command_center.errors import InvalidInput
from command_center.stats.model import Counts, composite, ranked, rates, red_black, row
from command_center.stats.periods import Kind, parse_month, parse_week, resolve

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # Wednesday 09:00 in Shanghai


def test_a_week_is_an_iso_week_of_local_days() -> None:
    week = parse_week("2026-W47", ZONE)
    assert (week.first_day, week.last_day) == (date(2026, 11, 16), date(2026, 11, 22))
    assert week.start.isoformat() == "2026-11-16T00:00:00+08:00"
    assert week.end.isoformat() == "2026-11-23T00:00:00+08:00"
    assert week.label == "2026-W47"
    assert parse_week("2026-W01", ZONE).first_day == date(2025, 12, 29)  # ISO year


def test_a_day_starts_at_local_midnight_and_today_is_local() -> None:
    late = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)  # 01:30 on the 25th in Shanghai
    day = resolve("day", zone=ZONE, now=late)
    assert day.first_day == date(2026, 11, 25)
    assert day.start == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def test_months_previous_periods_and_cutoffs() -> None:
    month = parse_month("2026-02", ZONE)
    assert (month.first_day, month.last_day) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month.previous().label == "2026-01"
    assert parse_week("2026-W01", ZONE).previous().label == "2025-W52"
    running = resolve("week", zone=ZONE, now=NOW)
    assert running.label == "2026-W48" and running.cutoff(NOW) == NOW
    assert parse_month("2026-10", ZONE).cutoff(NOW) == parse_month("2026-10", ZONE).end


def test_custom_ranges_include_both_days() -> None:
    span = resolve("custom", zone=ZONE, now=NOW, start="2026-11-01", end="2026-11-15")
    assert span.kind is Kind.CUSTOM and len(span.days()) == 15
    assert span.label == "2026-11-01..2026-11-15"


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"kind": "year"}, "period must be"),
        ({"kind": "week", "week": "2026-47"}, "2026-W47"),
        ({"kind": "week", "week": "2026-W54"}, "not a week"),
        ({"kind": "month", "month": "2026-13"}, "2026-11"),
        ({"kind": "day", "on": "25/11/2026"}, "YYYY-MM-DD"),
        ({"kind": "custom", "start": "2026-11-02"}, "needs start and end"),
        ({"kind": "custom", "start": "2026-11-02", "end": "2026-11-01"}, "before start"),
        ({"kind": "custom", "start": "2024-01-01", "end": "2026-01-01"}, "at most"),
    ],
)
def test_bad_periods_are_named(kwargs: dict[str, str], problem: str) -> None:
    kind = kwargs.pop("kind")
    with pytest.raises(InvalidInput, match=problem):
        resolve(kind, zone=ZONE, now=NOW, **kwargs)


def test_rates_are_fractions_or_none_when_nothing_is_due_or_rated() -> None:
    values = rates(Counts(due=8, closed=6, closed_on_time=4, handled=7, reworked=1, ratings=0))
    assert values.closure_rate == 0.75 and values.on_time_rate == 0.5
    assert values.rework_rate == pytest.approx(1 / 7)
    assert values.satisfaction_rate is None
    assert rates(Counts()).closure_rate is None


def test_the_composite_leaves_out_terms_it_cannot_compute() -> None:
    perfect = rates(Counts(due=4, closed=4, closed_on_time=4, handled=4, ratings=2, satisfied=2))
    assert composite(perfect) == 100.0
    # nothing rated: closure .5, on time .25, rework 0, return 0 over weights .3 .3 .1 .1
    unrated = rates(Counts(due=4, closed=2, closed_on_time=1, handled=4))
    assert composite(unrated) == pytest.approx(100 * (0.15 + 0.075 + 0.1 + 0.1) / 0.8, abs=0.005)
    assert row("x", "x", Counts()).composite is None


def test_ranking_ties_share_a_rank_and_small_groups_are_not_ranked() -> None:
    good = Counts(due=10, closed=10, closed_on_time=10, handled=10)
    rows = [
        row("b", "b", good),
        row("a", "a", good),
        row("c", "c", Counts(due=10, closed=5, closed_on_time=5, handled=10)),
        row("tiny", "tiny", Counts(due=1, closed=1, closed_on_time=1, handled=1)),
        row("idle", "idle", Counts(received=3)),
    ]
    out = ranked(rows, min_due=5)
    assert [(r.key, r.rank) for r in out] == [
        ("a", 1),
        ("b", 1),
        ("c", 3),
        ("idle", None),
        ("tiny", None),
    ]


def test_the_red_and_black_lists_take_the_ends_and_never_overlap() -> None:
    rows = ranked(
        [
            row(k, k, Counts(due=10, closed=n, closed_on_time=n))
            for k, n in [("a", 9), ("b", 8), ("c", 7), ("d", 6), ("e", 5)]
        ]
    )
    lists = red_black(rows, size=3)
    assert [r.key for r in lists.red] == ["a", "b"]
    assert [r.key for r in lists.black] == ["e", "d"]  # the worst first
    assert red_black(rows[:1]).red == []
