"""The dispatch engine on the real database with a controllable clock: rosters and
holidays, accept time-outs, the supervision ladder fired once across processes and
restarts, holds, extensions, disputes and rework."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from command_center.auth.model import Principal, Role
from command_center.clues import disputes, requests
from command_center.clues import service as clues_service
from command_center.clues.model import Action, Channel, State, Submission
from command_center.db.session import Database
from command_center.dispatch import service as dispatch_service
from command_center.settings import Settings
from command_center.supervision import warnings
from command_center.supervision.scheduler import tick
from tests.support import LIANDU, QINGTIAN, spread

MONDAY_10H = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
OPERATOR = Principal(role=Role.OPERATOR, subject="desk-1")
SUPERVISOR = Principal(role=Role.SUPERVISOR, subject="chief-1")


def squad(code: str) -> Principal:
    return Principal(role=Role.SQUAD, subject=f"{code}-phone", squad=code)


async def new_clue(
    database: Database, *, at: tuple[float, float] = LIANDU, matter: str = "CG-001"
) -> int:
    lon, lat = spread(at)
    async with database.transaction() as session:
        result = await clues_service.submit(
            session=session,
            submission=Submission(
                channel=Channel.GRID, matter_code=matter, lon=lon, lat=lat, submitted_crs="wgs84"
            ),
            by=OPERATOR,
            zone=ZoneInfo("Asia/Shanghai"),
        )
    return result.clue_id


async def clue(database: Database, clue_id: int) -> Any:
    async with database.sessions() as session:
        return await clues_service.get_scoped(session=session, clue_id=clue_id, by=OPERATOR)


async def events(database: Database, clue_id: int) -> list[tuple[str, dict[str, Any]]]:
    """The clue's events, oldest first: those relayed already, then those still in the
    outbox (a relay of a server still running elsewhere may move some at any moment)."""
    async with database.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT type, data FROM ("
                " SELECT type, data, 0 AS part, id FROM events WHERE clue_id = :c UNION ALL"
                " SELECT type, data, 1 AS part, id FROM outbox WHERE clue_id = :c"
                ") AS e ORDER BY part, id"
            ),
            {"c": clue_id},
        )
        return [(row.type, row.data) for row in rows]


async def dispatched_at(database: Database, clue_id: int) -> datetime:
    async with database.sessions() as session:
        moment: datetime = (
            await session.execute(
                text("SELECT dispatched_at FROM clues WHERE id = :id"), {"id": clue_id}
            )
        ).scalar_one()
    return moment


async def act(
    database: Database, clue_id: int, action: Action, by: Principal, note: str | None = None
) -> Any:
    async with database.transaction() as session:
        return await clues_service.act(
            session=session, clue_id=clue_id, action=action, by=by, note=note
        )


@pytest.fixture
async def roster(database: Database) -> AsyncIterator[Database]:
    yield database
    async with database.transaction() as session:
        await session.execute(text("DELETE FROM squad_shifts WHERE squad_code = 'QT-01'"))
        await session.execute(text("DELETE FROM holidays WHERE name LIKE 'test %'"))


async def route_qingtian(database: Database, now: datetime) -> Any:
    async with database.sessions() as session:
        return await dispatch_service.route(
            session=session, lon=QINGTIAN[0], lat=QINGTIAN[1], matter_code="CG-001", now=now
        )


async def test_a_squad_off_shift_or_on_a_holiday_is_not_eligible(roster: Database) -> None:
    async with roster.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO squad_shifts (squad_code, weekday, starts, ends, on_holidays) VALUES "
                "('QT-01', 1, '08:00', '18:00', false), ('QT-01', 6, '22:00', '06:00', true)"
            )
        )
    assert (await route_qingtian(roster, MONDAY_10H)).squad_code == "QT-01"
    evening = await route_qingtian(roster, MONDAY_10H + timedelta(hours=10))  # Monday 20:00
    assert evening.squad_code is None
    assert "off duty" in (evening.queue_reason or "")
    assert evening.queue_reason_code == "all_off_duty"
    sunday_3h = MONDAY_10H - timedelta(hours=31)  # Sunday 03:00, the Saturday night shift
    assert (await route_qingtian(roster, sunday_3h)).squad_code == "QT-01"
    async with roster.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO holidays (day, name, workday) "
                "VALUES ('2026-11-23', 'test holiday', false)"
            )
        )
    assert (await route_qingtian(roster, MONDAY_10H)).squad_code is None


async def test_the_dispatch_event_says_why_and_who_came_next(database: Database) -> None:
    clue_id = await new_clue(database)
    [(_, data)] = [e for e in await events(database, clue_id) if e[0] == "clue.dispatched"]
    ranking = data["ranking"]
    assert ranking["chosen"][0]["squad_code"] == data["squad_code"]
    assert {"score", "distance_m", "open_clues", "position"} <= set(ranking["chosen"][0])
    assert ranking["next"], "the runner-up is named"


async def test_an_unaccepted_dispatch_moves_on_then_lands_in_the_queue(database: Database) -> None:
    clue_id = await new_clue(database)
    first = (await clue(database, clue_id)).squad_code
    start = await dispatched_at(database, clue_id)
    assert await tick(database, now=start + timedelta(minutes=9), only_clues=[clue_id]) == 0
    await tick(database, now=start + timedelta(minutes=11), only_clues=[clue_id])
    moved = await clue(database, clue_id)
    assert moved.state is State.DISPATCHED
    assert moved.squad_code not in (None, first)
    second_start = await dispatched_at(database, clue_id)
    await tick(database, now=second_start + timedelta(minutes=11), only_clues=[clue_id])
    queued = await clue(database, clue_id)
    assert queued.state is State.RECEIVED
    assert queued.squad_code is None
    assert "not accepted in time" in (queued.queue_reason or "")
    assert queued.queue_reason_code == "not_accepted"
    types = [t for t, _ in await events(database, clue_id)]
    assert types.count("clue.accept_timeout") == 2
    assert types[-1] == "clue.queued"


async def test_each_rung_fires_once_across_two_processes_and_a_restart(
    database: Database, settings: Settings
) -> None:
    clue_id = await new_clue(database)
    await act(database, clue_id, Action.ACCEPT, squad((await clue(database, clue_id)).squad_code))
    start, deadline = (
        await dispatched_at(database, clue_id),
        (await clue(database, clue_id)).deadline,
    )
    span = deadline - start
    other = Database.from_settings(settings)  # a second server process
    try:
        for fraction in (0.76, 1.01, 1.51):
            now = start + span * fraction
            await asyncio.gather(
                tick(database, now=now, only_clues=[clue_id]),
                tick(other, now=now, only_clues=[clue_id]),
            )
        restarted = Database.from_settings(settings)
        try:
            await tick(restarted, now=start + span * 2, only_clues=[clue_id])
        finally:
            await restarted.dispose()
    finally:
        await other.dispose()
    types = [t for t, _ in await events(database, clue_id)]
    assert types.count("clue.reminder") == 1
    assert types.count("clue.supervision_order") == 1
    assert types.count("clue.escalated") == 1
    async with database.sessions() as session:
        kinds = list(
            (
                await session.execute(
                    text("SELECT kind FROM documents WHERE clue_id = :c ORDER BY id"),
                    {"c": clue_id},
                )
            ).scalars()
        )
    assert kinds == ["reminder", "supervision_order", "escalation"]


async def test_a_hold_pauses_the_deadline_and_an_extension_moves_it(database: Database) -> None:
    clue_id = await new_clue(database)
    holder = squad((await clue(database, clue_id)).squad_code)
    await act(database, clue_id, Action.ACCEPT, holder)
    start, deadline = (
        await dispatched_at(database, clue_id),
        (await clue(database, clue_id)).deadline,
    )
    async with database.transaction() as session:
        hold = await requests.ask(
            session=session,
            clue_id=clue_id,
            kind="hold",
            hours=None,
            note="当事人外出，待其返回",
            by=holder,
        )
    async with database.transaction() as session:
        await requests.decide(
            session=session,
            clue_id=clue_id,
            request_id=hold,
            approve=True,
            note="同意",
            by=SUPERVISOR,
            now=start + timedelta(minutes=30),
        )
    span = deadline - start
    assert await tick(database, now=start + span * 1.6, only_clues=[clue_id]) == 0
    async with database.transaction() as session:
        await requests.resume(
            session=session,
            clue_id=clue_id,
            by=holder,
            now=start + timedelta(minutes=30) + timedelta(hours=3),
        )
    after_hold = (await clue(database, clue_id)).deadline
    assert after_hold == deadline + timedelta(hours=3)
    async with database.transaction() as session:
        extension = await requests.ask(
            session=session,
            clue_id=clue_id,
            kind="extension",
            hours=24,
            note="需要补充调查",
            by=holder,
        )
        with pytest.raises(Exception, match="already waiting"):
            async with session.begin_nested():
                await requests.ask(
                    session=session,
                    clue_id=clue_id,
                    kind="extension",
                    hours=2,
                    note="again",
                    by=holder,
                )
    async with database.transaction() as session:
        await requests.decide(
            session=session,
            clue_id=clue_id,
            request_id=extension,
            approve=True,
            note=None,
            by=SUPERVISOR,
            now=start,
        )
    assert (await clue(database, clue_id)).deadline == after_hold + timedelta(hours=24)
    types = [t for t, _ in await events(database, clue_id)]
    assert {
        "clue.hold_requested",
        "clue.hold_approved",
        "clue.hold_ended",
        "clue.extension_requested",
        "clue.extension_approved",
    } <= set(types)
    assert "clue.reminder" not in types


async def test_a_return_becomes_a_dispute_the_operator_decides(database: Database) -> None:
    clue_id = await new_clue(database, matter="CG-002")
    holder = squad((await clue(database, clue_id)).squad_code)
    await act(database, clue_id, Action.RETURN, holder, note="无照经营，属市场监管")
    async with database.transaction() as session:
        decided = await disputes.decide(
            session=session,
            clue_id=clue_id,
            decision="reassign",
            department="市场监督管理局",
            note="确属无照经营",
            by=OPERATOR,
        )
    assert decided.state is State.DISPATCHED
    assert decided.squad_code == "CITY-SJ-01"
    assert decided.department == "市场监督管理局"
    other = await new_clue(database, matter="CG-002")
    holder = squad((await clue(database, other)).squad_code)
    await act(database, other, Action.RETURN, holder, note="不归我队")
    async with database.transaction() as session:
        upheld = await disputes.decide(
            session=session,
            clue_id=other,
            decision="uphold",
            department=None,
            note="属于占道，由你队办理",
            by=OPERATOR,
        )
    assert upheld.squad_code == holder.squad
    decisions = [
        d["decision"] for t, d in await events(database, other) if t == "clue.dispute_decided"
    ]
    assert decisions == ["uphold"]


async def test_not_fixed_means_rework_by_the_same_squad(database: Database) -> None:
    clue_id = await new_clue(database)
    holder = squad((await clue(database, clue_id)).squad_code)
    for action in (Action.ACCEPT, Action.ARRIVE, Action.HANDLE):
        await act(database, clue_id, action, holder)
    reworked = await act(database, clue_id, Action.REWORK, OPERATOR, note="摊位仍在")
    assert reworked.state is State.DISPATCHED
    assert reworked.squad_code == holder.squad
    async with database.sessions() as session:
        count = (
            await session.execute(
                text("SELECT rework_count FROM clues WHERE id = :id"), {"id": clue_id}
            )
        ).scalar_one()
    assert count == 1


async def test_overdue_and_unaccepted_clues_are_warned(database: Database) -> None:
    clue_id = await new_clue(database)
    start = await dispatched_at(database, clue_id)
    async with database.sessions() as session:
        found = await warnings.current(
            session, now=start + timedelta(days=2), jurisdiction="331102", max_position_age_s=600
        )
    kinds = {w["kind"] for w in found if w.get("clue_id") == clue_id}
    assert kinds == {"overdue", "unaccepted"}


async def test_joint_enforcement_has_a_lead_and_assistants_who_report(
    database: Database,
) -> None:
    async with database.transaction() as session:
        await session.execute(
            text("UPDATE matters SET joint_departments = '{综合行政执法局}' WHERE code = 'XF-001'")
        )
    try:
        clue_id = await new_clue(database, matter="XF-001")
        lead = await clue(database, clue_id)
        assert lead.squad_code == "CITY-XF-01"
        [assistant] = lead.assistants
        helper = squad(assistant)
        async with database.sessions() as session:
            mine = await clues_service.list_scoped(session=session, by=helper, states=[], limit=50)
        assert clue_id in {c.id for c in mine}
        await act(database, clue_id, Action.ACCEPT, helper)
        await act(database, clue_id, Action.HANDLE, helper, note="已清理占道摊位")
        boss = squad("CITY-XF-01")
        for action in (Action.ACCEPT, Action.ARRIVE):
            await act(database, clue_id, action, boss)
        handled = await act(database, clue_id, Action.HANDLE, boss, note="通道已畅通")
        assert handled.state is State.HANDLED
        types = [(t, d) for t, d in await events(database, clue_id)]
        [(_, dispatched_to_helper)] = [e for e in types if e[0] == "clue.assist_dispatched"]
        assert dispatched_to_helper["lead_squad"] == "CITY-XF-01"
        [(_, report)] = [e for e in types if e[0] == "clue.handled"]
        assert report["assistant_reports"] == [
            {
                "squad_code": assistant,
                "department": "综合行政执法局",
                "state": "reported",
                "note": "已清理占道摊位",
            }
        ]
    finally:
        async with database.transaction() as session:
            await session.execute(
                text("UPDATE matters SET joint_departments = '{}' WHERE code = 'XF-001'")
            )


async def test_a_matter_counted_in_working_hours_skips_nights_and_holidays(
    roster: Database,
) -> None:
    friday_16h = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai
    async with roster.transaction() as session:
        await session.execute(text("UPDATE matters SET working_hours = true WHERE code = 'CG-004'"))
        await session.execute(
            text("INSERT INTO holidays (day, name) VALUES ('2026-11-30', 'test holiday')")
        )
    try:
        async with roster.sessions() as session:
            route = await dispatch_service.route(
                session=session,
                lon=LIANDU[0],
                lat=LIANDU[1],
                matter_code="CG-004",
                now=friday_16h,
            )
        deadline = route.due()
        assert deadline is not None
        assert route.deadline_hours == 24
        # Friday 1.5 h, the weekend and the Monday holiday none, Tuesday to Thursday 7 h
        # each, the last 1.5 h on Friday morning.
        shanghai = ZoneInfo("Asia/Shanghai")
        assert deadline.astimezone(shanghai) == datetime(2026, 12, 4, 10, 0, tzinfo=shanghai)
    finally:
        async with roster.transaction() as session:
            await session.execute(
                text("UPDATE matters SET working_hours = false WHERE code = 'CG-004'")
            )
