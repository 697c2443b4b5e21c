"""The indicators computed in SQL over a generated history whose answers are known."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from command_center.auth.scope import Scope
from command_center.db.session import Database
from command_center.stats import service
from command_center.stats.model import Dimension, Row, Step
from command_center.stats.periods import Period, parse_month, parse_week
from tests.history import SimClue
from tests.stats import scenario
from tests.stats.scenario import ECOLOGY, ENFORCEMENT, LIANDU, QINGTIAN

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
WEEK = parse_week(scenario.WEEK, ZONE)
MONTH = parse_month(scenario.MONTH, ZONE)


EVERYTHING = Scope()


async def by(
    database: Database, dimension: Dimension, period: Period = WEEK, scope: Scope = EVERYTHING
) -> dict[str | None, Row]:
    async with database.sessions() as session:
        rows = await service.indicators(
            session=session, period=period, now=NOW, scope=scope, by=dimension
        )
    return {r.key: r for r in rows}


async def test_a_department_week_counts_what_was_due_closed_and_on_time(
    database: Database, history: dict[str, SimClue]
) -> None:
    rows = await by(database, Dimension.DEPARTMENT)
    a = rows[ENFORCEMENT].counts
    # due: A1 A2 A3 A4 A5 A10 A11; not A6 (cancelled), A7 (due later), A8 (on hold),
    # A9 (closed before the week), A12 (a duplicate)
    assert (a.due, a.closed, a.closed_on_time) == (7, 5, 4)
    assert (a.handled, a.reworked, a.extended, a.returned) == (7, 1, 1, 1)
    assert (a.received, a.dispatched, a.ratings, a.satisfied) == (11, 10, 2, 1)
    rates = rows[ENFORCEMENT].rates
    assert rates.closure_rate == pytest.approx(5 / 7)
    assert rates.on_time_rate == pytest.approx(4 / 7)
    assert rates.rework_rate == pytest.approx(1 / 7)
    assert rates.extension_rate == pytest.approx(1 / 7)
    assert rates.return_rate == pytest.approx(1 / 7)
    assert rates.satisfaction_rate == pytest.approx(0.5)
    b = rows[ECOLOGY].counts
    assert (b.due, b.closed, b.closed_on_time, b.ratings, b.satisfied) == (2, 1, 1, 1, 1)


async def test_the_composite_index_ranks_the_departments(
    database: Database, history: dict[str, SimClue]
) -> None:
    rows = await by(database, Dimension.DEPARTMENT)
    # 100 × (.3 × 5/7 + .3 × 4/7 + .2 × 1/2 + .1 × 6/7 + .1 × 6/7)
    assert rows[ENFORCEMENT].composite == pytest.approx(65.71, abs=0.005)
    # 100 × (.3 × 1/2 + .3 × 1/2 + .2 × 1 + .1 × 1 + .1 × 1)
    assert rows[ECOLOGY].composite == pytest.approx(70.0)
    assert (rows[ECOLOGY].rank, rows[ENFORCEMENT].rank) == (1, 2)


async def test_the_month_sees_later_closings_and_earlier_ones(
    database: Database, history: dict[str, SimClue]
) -> None:
    a = (await by(database, Dimension.DEPARTMENT, MONTH))[ENFORCEMENT].counts
    # + A9 (closed on the 10th), A7 (due on the 24th, never handled); A3 closed on the 25th
    assert (a.due, a.closed, a.closed_on_time) == (9, 7, 6)


async def test_districts_and_matters_split_the_same_clues(
    database: Database, history: dict[str, SimClue]
) -> None:
    districts = await by(database, Dimension.DISTRICT)
    assert districts[LIANDU].name == "莲都区"
    assert (districts[LIANDU].counts.due, districts[QINGTIAN].counts.due) == (8, 1)
    matters = await by(database, Dimension.MATTER)
    assert (matters["CG-001"].counts.due, matters["HB-001"].counts.due) == (7, 2)
    assert matters["HB-001"].name.startswith("私设暗管")


async def test_step_times_are_measured_between_events(
    database: Database, history: dict[str, SimClue]
) -> None:
    b = (await by(database, Dimension.DEPARTMENT))[ECOLOGY].steps
    accept = b[Step.ACCEPTANCE]  # B1 after an hour, B2 after two
    assert (accept.count, accept.mean_seconds) == (2, 5400)
    assert accept.p90_seconds == pytest.approx(3600 + 0.9 * 3600)
    assert b[Step.HANDLING].mean_seconds == 6 * 3600
    a = (await by(database, Dimension.DEPARTMENT))[ENFORCEMENT].steps
    # A2 waited 6 minutes in the queue; every other clue of the week was dispatched at once
    assert a[Step.DISPATCH].count == 10
    assert a[Step.DISPATCH].mean_seconds == pytest.approx(36)


async def test_a_squad_sees_only_the_clues_it_has(
    database: Database, history: dict[str, SimClue]
) -> None:
    rows = await by(database, Dimension.TOTAL, scope=Scope(squad="QT-01"))
    assert rows[None].counts.due == 1 and rows[None].counts.closed == 1
    outside = await by(database, Dimension.TOTAL, scope=Scope(jurisdiction=QINGTIAN))
    assert outside[None].counts.due == 1


async def test_the_worst_overdue_are_those_open_past_their_deadline_at_the_end(
    database: Database, history: dict[str, SimClue]
) -> None:
    async with database.sessions() as session:
        worst = await service.worst_overdue(
            session=session, period=WEEK, now=NOW, scope=Scope(), limit=10
        )
    ours = {c.id: name for name, c in history.items()}
    assert [ours.get(w["clue_id"]) for w in worst if w["clue_id"] in ours] == ["B2", "A11"]
    b2 = next(w for w in worst if w["clue_id"] == history["B2"].id)
    assert b2["overdue_seconds"] == pytest.approx((3 * 24 + 15) * 3600)  # 20th 09:00 → 24th


async def test_a_past_period_gives_the_same_figures_whenever_it_is_asked(
    database: Database, history: dict[str, SimClue]
) -> None:
    later = await by(database, Dimension.DEPARTMENT)
    async with database.sessions() as session:
        rows = await service.indicators(
            session=session,
            period=WEEK,
            now=datetime(2027, 6, 1, tzinfo=UTC),
            scope=Scope(),
            by=Dimension.DEPARTMENT,
        )
    assert {r.key: r.counts for r in rows} == {k: r.counts for k, r in later.items()}


async def test_clues_overdue_since_an_earlier_period_stay_on_the_overdue_list(
    database: Database, history: dict[str, SimClue]
) -> None:
    week48 = parse_week("2025-W48", ZONE)
    async with database.sessions() as session:
        worst = await service.worst_overdue(
            session=session, period=week48, now=NOW, scope=Scope(), limit=50
        )
        overdue = await service.overdue_at_cut(
            session=session, period=week48, now=NOW, scope=Scope()
        )
    ours = {c.id: name for name, c in history.items()}
    # B2 (20 Nov) and A11 (21 Nov) were overdue before the week, A7 fell due in it
    assert [ours[w["clue_id"]] for w in worst if w["clue_id"] in ours] == ["B2", "A11", "A7"]
    assert overdue >= 3
    due = await by(database, Dimension.DEPARTMENT, week48)
    # …but only A7 is due in week 48 (and A3, closed on the 25th)
    assert due[ENFORCEMENT].counts.due == 2 and ECOLOGY not in due
