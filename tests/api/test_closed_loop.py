"""One clue through the whole loop, with roles, scope and illegal steps refused."""

from typing import Any

import httpx

from command_center.auth.model import Role
from tests.conftest import LiveServer
from tests.support import LIANDU, collect, listen, spread, tip_id


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def act(
    client: httpx.AsyncClient, token: str, clue_id: int, action: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/clues/{clue_id}/actions", json={"action": action, **body}, headers=auth(token)
    )


async def find_clue(client: httpx.AsyncClient, token: str, sid: str) -> dict[str, Any]:
    clues = (await client.get("/api/v1/clues", headers=auth(token))).json()
    [clue] = [c for c in clues if c["service_request_id"] == sid]
    return dict(clue)


async def test_a_tip_travels_the_whole_loop_to_closed(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR, jurisdiction="331102")
    grid_worker = live_server.token(Role.GRID_WORKER, jurisdiction="331102")
    sid = await tip_id(client, at=LIANDU, description="店外经营堵塞人行道")
    clue = await find_clue(client, operator, sid)
    assert clue["state"] == "dispatched"
    squad = live_server.token(Role.SQUAD, squad=clue["squad_code"])

    async with listen(live_server.ws_url, squad, after=0) as ws:
        for action, by, state in [
            ("accept", squad, "accepted"),
            ("arrive", squad, "on_scene"),
            ("handle", squad, "handled"),
            ("verify", grid_worker, "verified"),
            ("close", operator, "closed"),
        ]:
            response = await act(client, by, clue["id"], action, note=f"{action} done")
            assert response.status_code == 200, response.text
            assert response.json()["state"] == state
        events = await collect(
            ws,
            lambda es: any(
                e["type"] == "clue.closed" and e["data"]["clue_id"] == clue["id"] for e in es
            ),
        )

    [public] = (await client.get(f"/open311/v2/requests/{sid}.json")).json()
    assert public["status"] == "closed"
    assert public["status_notes"] == "close done"

    record = (await client.get(f"/api/v1/clues/{clue['id']}/events", headers=auth(operator))).json()
    assert [e["type"] for e in record] == [
        "clue.received",
        "clue.dispatched",
        "clue.accepted",
        "clue.on_scene",
        "clue.handled",
        "clue.verified",
        "clue.closed",
    ]
    closed = record[-1]["data"]
    assert (closed["from"], closed["to"]) == ("verified", "closed")
    assert closed["by"]["role"] == "operator"
    mine = [e["type"] for e in events if e["data"]["clue_id"] == clue["id"]]
    assert mine[-1] == "clue.closed"


async def test_an_illegal_step_is_a_409_naming_the_current_state(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR)
    clue = await find_clue(client, operator, await tip_id(client))
    squad = live_server.token(Role.SQUAD, squad=clue["squad_code"])
    response = await act(client, squad, clue["id"], "handle")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("cannot handle a clue that is dispatched")
    assert (await find_clue(client, operator, clue["service_request_id"]))["state"] == "dispatched"


async def test_another_squad_cannot_touch_the_clue(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR)
    clue = await find_clue(client, operator, await tip_id(client))
    intruder = live_server.token(Role.SQUAD, squad="QT-01")
    assert (await act(client, intruder, clue["id"], "accept")).status_code == 403
    response = await client.get(f"/api/v1/clues/{clue['id']}", headers=auth(intruder))
    assert response.status_code == 403


async def test_an_operator_outside_the_jurisdiction_gets_403(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    clue = await find_clue(client, live_server.token(Role.OPERATOR), await tip_id(client))
    elsewhere = live_server.token(Role.OPERATOR, jurisdiction="331121")
    response = await client.get(f"/api/v1/clues/{clue['id']}", headers=auth(elsewhere))
    assert response.status_code == 403
    assert "outside your scope" in response.json()["detail"]


async def test_every_endpoint_but_public_intake_needs_a_token(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/v1/clues"),
        ("GET", "/api/v1/clues/1"),
        ("POST", "/api/v1/clues/1/actions"),
        ("POST", "/api/v1/clues"),
    ]:
        response = await client.request(method, path, json={})
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"


async def test_a_return_needs_a_reason_and_lands_in_the_operator_queue(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR)
    clue = await find_clue(client, operator, await tip_id(client))
    squad = live_server.token(Role.SQUAD, squad=clue["squad_code"])
    assert (await act(client, squad, clue["id"], "return")).status_code == 400
    response = await act(client, squad, clue["id"], "return", note="属于市场监管，不归我队")
    assert response.json()["state"] == "returned"
    queue = (
        await client.get("/api/v1/clues?state=returned&state=received", headers=auth(operator))
    ).json()
    [queued] = [c for c in queue if c["id"] == clue["id"]]
    assert "属于市场监管" in queued["queue_reason"]
    assert queued["queue_reason_code"] == "returned"
    redispatch = await act(
        client, operator, clue["id"], "dispatch", squad="LD-01", note="operator decided: ours"
    )
    assert redispatch.status_code == 200
    assert redispatch.json()["squad_code"] == "LD-01"
    assert redispatch.json()["state"] == "dispatched"


async def test_a_reopened_clue_goes_back_to_its_squad(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR)
    clue = await find_clue(client, operator, await tip_id(client))
    squad = live_server.token(Role.SQUAD, squad=clue["squad_code"])
    for action, by in [
        ("accept", squad),
        ("arrive", squad),
        ("handle", squad),
        ("verify", operator),
        ("close", operator),
    ]:
        assert (await act(client, by, clue["id"], action)).status_code == 200
    reopened = await act(client, operator, clue["id"], "reopen", note="摊位又出现了")
    assert reopened.status_code == 200
    assert reopened.json()["state"] == "dispatched"
    assert reopened.json()["squad_code"] == clue["squad_code"]


async def test_a_grid_worker_reports_in_json_with_gcj02(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    from gis.crs import wgs84_to_gcj02

    grid_worker = live_server.token(Role.GRID_WORKER, subject="grid-0042")
    spot = spread(LIANDU)  # a spot of its own: other tests report CG-006 in 莲都 too
    lon, lat = wgs84_to_gcj02(*spot)
    response = await client.post(
        "/api/v1/clues",
        json={
            "matter_code": "CG-006",
            "lon": lon,
            "lat": lat,
            "crs": "gcj02",
            "description": "建筑垃圾",
        },
        headers=auth(grid_worker),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "dispatched"
    assert body["jurisdiction_code"] == "331102"
    assert abs(body["location"]["lon"] - spot[0]) < 1e-6
    bad = await client.post(
        "/api/v1/clues",
        json={"matter_code": "CG-006", "lon": 500, "lat": 28},
        headers=auth(grid_worker),
    )
    assert bad.status_code == 422
    assert "lon" in bad.json()["detail"]
    squad = live_server.token(Role.SQUAD, squad="LD-01")
    refused = await client.post(
        "/api/v1/clues",
        json={"matter_code": "CG-006", "lon": 119.8, "lat": 28.4},
        headers=auth(squad),
    )
    assert refused.status_code == 403


async def test_with_no_eligible_squad_the_clue_waits_in_the_queue_with_a_reason(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR)
    async with listen(live_server.ws_url, operator) as ws:
        # 消防救援支队 has one city-wide squad; take it off duty for this test.
        await set_duty(live_server, "CITY-XF-01", on_duty=False)
        try:
            sid = await tip_id(
                client,
                service_code="XF-001",
                description="消防通道被堵",
                **{"attribute[blocked_by]": "car"},
            )
        finally:
            await set_duty(live_server, "CITY-XF-01", on_duty=True)
        [queued] = [
            e
            for e in await collect(ws, lambda es: any(e["type"] == "clue.queued" for e in es))
            if e["type"] == "clue.queued"
        ]
    assert queued["data"]["service_request_id"] == sid
    assert "off duty" in queued["data"]["reason"]
    assert queued["data"]["reason_code"] == "all_off_duty"
    clue = await find_clue(client, operator, sid)
    assert clue["state"] == "received"
    assert clue["squad_code"] is None
    assert "off duty" in clue["queue_reason"]
    assert clue["queue_reason_code"] == "all_off_duty"
    queue = (await client.get("/api/v1/clues?state=received", headers=auth(operator))).json()
    assert sid in {c["service_request_id"] for c in queue}


async def set_duty(live_server: LiveServer, squad: str, *, on_duty: bool) -> None:
    from command_center.db.session import Database
    from command_center.squads import service as squads_service

    database = Database.from_settings(live_server.settings)
    try:
        async with database.transaction() as session:
            await squads_service.set_on_duty(session=session, code=squad, on_duty=on_duty)
    finally:
        await database.dispose()
