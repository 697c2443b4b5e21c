"""`/api/v1/stats/…` on a live server: the overview follows the real closed loop, is
scoped by the token, and the indicators come as JSON and CSV."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from command_center.auth.model import Role
from tests.conftest import LiveServer
from tests.history import SimClue
from tests.stats import scenario
from tests.support import LIANDU, tip_id

OVERVIEW_KEYS = {
    "period",
    "received",
    "dispatched",
    "closed",
    "overdue",
    "closure_rate",
    "on_time_rate",
    "satisfaction_rate",
}


async def overview(client: httpx.AsyncClient, token: str, **params: str) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/stats/overview", params=params, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def settled(
    ask: Callable[[], Awaitable[dict[str, Any]]], done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The answer once `done` holds (at most 5 s), else the last one."""
    for _ in range(50):
        body = await ask()
        if done(body):
            return body
        await asyncio.sleep(0.1)
    return body


async def act(client: httpx.AsyncClient, token: str, clue_id: int, action: str) -> None:
    response = await client.post(
        f"/api/v1/clues/{clue_id}/actions",
        json={"action": action},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text


async def test_the_overview_follows_a_clue_through_the_loop(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR)
    qingtian = live_server.token(Role.OPERATOR, jurisdiction="331121")
    before, far_before = await overview(client, operator), await overview(client, qingtian)
    assert set(before) == OVERVIEW_KEYS
    assert set(before["period"]) == {"kind", "start", "end"}
    assert before["period"]["kind"] == "day" and before["period"]["start"].endswith("+08:00")

    code = await tip_id(client, at=LIANDU)
    found = await client.get(
        "/api/v1/clues", headers={"Authorization": f"Bearer {operator}"}, params={"limit": 5}
    )
    clue = next(c for c in found.json() if c["service_request_id"] == code)
    squad = live_server.token(Role.SQUAD, squad=clue["squad_code"])
    mine_before = await overview(client, squad)
    for action in ("accept", "arrive", "handle"):
        await act(client, squad, clue["id"], action)
    for action in ("verify", "close"):
        await act(client, operator, clue["id"], action)

    # events reach the record through the relay, a moment after each commit
    after = await settled(
        lambda: overview(client, operator), lambda b: b["closed"] > before["closed"]
    )
    assert after["received"] == before["received"] + 1
    assert after["dispatched"] == before["dispatched"] + 1
    assert after["closed"] == before["closed"] + 1
    assert 0 < after["closure_rate"] <= 1 and 0 < after["on_time_rate"] <= 1
    mine = await settled(
        lambda: overview(client, squad), lambda b: b["closed"] > mine_before["closed"]
    )
    assert mine["closed"] == mine_before["closed"] + 1
    far = await overview(client, qingtian)
    assert (far["received"], far["closed"]) == (far_before["received"], far_before["closed"])


async def test_a_past_week_by_its_date_and_the_open_clues_overdue_now(
    live_server: LiveServer, client: httpx.AsyncClient, history: dict[str, SimClue]
) -> None:
    body = await overview(
        client, live_server.token(Role.OPERATOR), period="week", date="2025-11-19"
    )
    assert body["period"] == {
        "kind": "week",
        "start": "2025-11-17T00:00:00+08:00",
        "end": "2025-11-24T00:00:00+08:00",
    }
    assert (body["received"], body["dispatched"], body["closed"]) == (13, 12, 6)
    assert body["closure_rate"] == pytest.approx(6 / 9)
    assert body["on_time_rate"] == pytest.approx(5 / 9)
    assert body["satisfaction_rate"] == pytest.approx(2 / 3)
    # B2, A7 and A11 are still open past their deadlines; the squad sees only its own
    ecology = await overview(client, live_server.token(Role.SQUAD, squad="CITY-HB-01"))
    assert ecology["overdue"] >= 1
    empty = await overview(
        client, live_server.token(Role.OPERATOR), period="month", date="2025-06-15"
    )
    assert empty["closure_rate"] is None and empty["satisfaction_rate"] is None


async def test_indicators_by_department_as_json_and_csv(
    live_server: LiveServer, client: httpx.AsyncClient, history: dict[str, SimClue]
) -> None:
    headers = {"Authorization": f"Bearer {live_server.token(Role.SUPERVISOR)}"}
    params = {"period": "week", "week": scenario.WEEK, "by": "department"}
    body = (await client.get("/api/v1/stats/indicators", params=params, headers=headers)).json()
    assert body["label"] == "2025-W47" and body["weights"]["on_time_rate"] == 0.3
    first = body["rows"][0]
    assert (first["key"], first["rank"], first["composite"]) == (scenario.ECOLOGY, 1, 70.0)
    assert first["steps"]["acceptance"]["mean_seconds"] == 5400
    response = await client.get("/api/v1/stats/indicators.csv", params=params, headers=headers)
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    lines = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    enforcement = next(r for r in lines if r["department"] == scenario.ENFORCEMENT)
    assert (enforcement["due"], enforcement["closed"], enforcement["rank"]) == ("7", "5", "2")
    assert enforcement["on_time_rate"] == "0.5714"


async def test_the_monthly_red_and_black_list(
    live_server: LiveServer, client: httpx.AsyncClient, history: dict[str, SimClue]
) -> None:
    headers = {"Authorization": f"Bearer {live_server.token(Role.SUPERVISOR)}"}
    response = await client.get(
        "/api/v1/stats/red-black", params={"month": "2025-11", "min_due": 1}, headers=headers
    )
    body = response.json()
    # November: 综合行政执法局 100 × (.3 × 7/9 + .3 × 6/9 + .2 × 1/2 + .1 × 7/8 + .1 × 8/9)
    # = 70.97 overtakes 生态环境局's 70.00 (the same two clues as in the week)
    assert [r["key"] for r in body["red"]] == [scenario.ENFORCEMENT]
    assert body["red"][0]["composite"] == pytest.approx(70.97, abs=0.005)
    assert [r["key"] for r in body["black"]] == [scenario.ECOLOGY]
    # with the default minimum of 5 due clues only one department is ranked: no lists
    default = await client.get(
        "/api/v1/stats/red-black", params={"month": "2025-11"}, headers=headers
    )
    assert default.json()["red"] == [] and default.json()["min_due"] == 5


@pytest.mark.parametrize(
    ("role", "params", "status", "problem"),
    [
        (None, {}, 401, "token"),
        (Role.GRID_WORKER, {}, 403, "statistics are for"),
        (Role.OPERATOR, {"period": "year"}, 400, "period must be"),
        (Role.OPERATOR, {"period": "day", "date": "2026-13-01"}, 400, "YYYY-MM-DD"),
    ],
)
async def test_refusals_name_the_problem(
    live_server: LiveServer,
    client: httpx.AsyncClient,
    role: Role | None,
    params: dict[str, str],
    status: int,
    problem: str,
) -> None:
    headers = {"Authorization": f"Bearer {live_server.token(role)}"} if role else {}
    response = await client.get("/api/v1/stats/overview", params=params, headers=headers)
    assert response.status_code == status
    assert problem in response.json()["detail"]
