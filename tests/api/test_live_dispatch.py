"""The live push: the right squad hears its dispatch at once, others hear nothing, and a
dropped connection resumes with `after=` without losing or repeating anything."""

import httpx

from command_center.auth.model import Role
from tests.conftest import LiveServer
from tests.support import QINGTIAN, collect, dispatched, listen, quiet, tip_id


async def test_the_assigned_squad_hears_the_dispatch_and_no_other_squad_does(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    qingtian = live_server.token(Role.SQUAD, squad="QT-01")
    liandu = live_server.token(Role.SQUAD, squad="LD-01")
    async with (
        listen(live_server.ws_url, qingtian) as right,
        listen(live_server.ws_url, liandu) as wrong,
    ):
        sid = await tip_id(client, at=QINGTIAN, description="桥头占道经营")
        [event] = await collect(right, dispatched(sid))
        assert await quiet(wrong, 0.5) == []
    assert event["type"] == "clue.dispatched"
    data = event["data"]
    assert data["service_request_id"] == sid
    assert isinstance(data["clue_id"], int)
    assert data["squad_code"] == "QT-01"
    assert data["jurisdiction_code"] == "331121"
    assert data["matter_code"] == "CG-001"
    assert data["deadline"].endswith("Z")
    assert data["location"]["crs"] == "wgs84"
    assert isinstance(event["id"], int) and event["at"].endswith("Z")


async def test_an_operator_sees_the_whole_story_in_its_jurisdiction_only(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    qingtian_desk = live_server.token(Role.OPERATOR, jurisdiction="331121")
    liandu_desk = live_server.token(Role.OPERATOR, jurisdiction="331102")
    async with (
        listen(live_server.ws_url, qingtian_desk) as desk,
        listen(live_server.ws_url, liandu_desk) as other_desk,
    ):
        sid = await tip_id(client, at=QINGTIAN)
        events = await collect(desk, dispatched(sid))
        assert await quiet(other_desk, 0.5) == []
    mine = [e for e in events if e["data"]["service_request_id"] == sid]
    assert [e["type"] for e in mine] == ["clue.received", "clue.dispatched"]
    assert mine[0]["id"] < mine[1]["id"]


async def test_resume_with_after_replays_what_was_missed_exactly_once(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    token = live_server.token(Role.SQUAD, squad="QT-01")
    async with listen(live_server.ws_url, token) as ws:
        first = await tip_id(client, at=QINGTIAN)
        [seen] = await collect(ws, dispatched(first))
    # Offline: two more dispatches happen.
    missed = [await tip_id(client, at=QINGTIAN) for _ in range(2)]
    async with listen(live_server.ws_url, token, after=seen["id"]) as ws:
        replayed = await collect(ws, dispatched(missed[1]))
        live = await tip_id(client, at=QINGTIAN)
        more = await collect(ws, dispatched(live))
    ids = [e["id"] for e in replayed + more]
    assert ids == sorted(set(ids)), "every event once, in order"
    assert [e["data"]["service_request_id"] for e in replayed] == missed
    assert seen["id"] not in ids


async def test_a_bad_token_is_closed_with_a_reason(live_server: LiveServer) -> None:
    async with listen(live_server.ws_url, "not-a-token") as ws:
        await ws.wait_closed()
    assert ws.close_code == 4401
    assert ws.close_reason == "the token is not valid"


async def test_a_bad_after_is_refused(live_server: LiveServer) -> None:
    token = live_server.token(Role.OPERATOR)
    async with listen(live_server.ws_url, token, after=-1) as ws:  # type: ignore[arg-type]
        await ws.wait_closed()
    assert ws.close_code == 4400
