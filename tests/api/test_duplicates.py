"""Duplicates across channels: one problem, one clue; the squad is not disturbed twice."""

import httpx

from command_center.auth.model import Principal, Role
from command_center.clues import service as clues_service
from command_center.clues.model import Channel, State, Submission
from command_center.db.session import Database
from tests.conftest import LiveServer
from tests.support import LIANDU, collect, dispatched, listen, post_tip, quiet, spread

METRES = 1 / 111_000  # about one metre of latitude in degrees


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def clue_of(client: httpx.AsyncClient, token: str, sid: str) -> dict:
    return next(
        c
        for c in (await client.get("/api/v1/clues?limit=500", headers=auth(token))).json()
        if c["service_request_id"] == sid
    )


async def test_a_resident_a_grid_worker_and_a_camera_make_one_clue(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database
) -> None:
    lon, lat = spread(LIANDU)
    operator = live_server.token(Role.OPERATOR)
    first = await post_tip(client, at=(lon, lat), exact=True, service_code="CG-005")
    original = first.json()[0]["service_request_id"]
    clue = await clue_of(client, operator, original)
    squad = live_server.token(Role.SQUAD, squad=clue["squad_code"])
    async with listen(live_server.ws_url, squad, after=0) as ws:
        await collect(ws, dispatched(original))  # everything up to the original's dispatch
        grid = await client.post(
            "/api/v1/clues",
            json={"matter_code": "CG-005", "lon": lon + 20 * METRES, "lat": lat},
            headers=auth(live_server.token(Role.GRID_WORKER)),
        )
        async with database.transaction() as session:
            camera = await clues_service.submit(
                session=session,
                submission=Submission(
                    channel=Channel.VIDEO,
                    matter_code="CG-005",
                    lon=lon,
                    lat=lat + 30 * METRES,
                    submitted_crs="wgs84",
                    device_id="drone-7",
                ),
                by=Principal(role=Role.OPERATOR, subject="video-desk"),
                zone=live_server.settings.zone,
            )
        assert await quiet(ws, 0.7) == []  # the squad is not told again
    assert grid.json()["state"] == "duplicate"
    assert camera.state is State.DUPLICATE
    assert camera.duplicate_of == original
    linked = await clue_of(client, operator, original)
    assert linked["report_count"] == 3
    # a camera's clue is internal (OPEN311_PUBLIC_CHANNELS): the public does not see it
    internal = await client.get(f"/open311/v2/requests/{camera.service_request_id}.json")
    assert internal.status_code == 404


async def test_other_matters_and_other_places_are_not_duplicates(
    client: httpx.AsyncClient,
) -> None:
    lon, lat = spread(LIANDU)
    first = (await post_tip(client, at=(lon, lat), exact=True)).json()[0]
    other_matter = (
        await post_tip(client, at=(lon, lat), exact=True, service_code="CG-002")
    ).json()[0]
    further = (await post_tip(client, at=(lon, lat + 80 * METRES), exact=True)).json()[0]
    assert "合并办理" not in other_matter["service_notice"]
    assert "合并办理" not in further["service_notice"]
    near = (await post_tip(client, at=(lon, lat + 30 * METRES), exact=True)).json()[0]
    assert first["service_request_id"] in near["service_notice"]


async def test_a_duplicates_reporter_follows_the_original_to_closed(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    lon, lat = spread(LIANDU)
    operator = live_server.token(Role.OPERATOR)
    original = (await post_tip(client, at=(lon, lat), exact=True)).json()[0]["service_request_id"]
    repeat = (await post_tip(client, at=(lon, lat), exact=True)).json()[0]["service_request_id"]
    clue = await clue_of(client, operator, original)
    squad = live_server.token(Role.SQUAD, squad=clue["squad_code"])
    for action, who in [
        ("accept", squad),
        ("arrive", squad),
        ("handle", squad),
        ("verify", operator),
        ("close", operator),
    ]:
        response = await client.post(
            f"/api/v1/clues/{clue['id']}/actions", json={"action": action}, headers=auth(who)
        )
        assert response.status_code == 200
    [public] = (await client.get(f"/open311/v2/requests/{repeat}.json")).json()
    assert public["status"] == "closed"


async def test_an_operator_splits_and_merges_by_hand(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    lon, lat = spread(LIANDU)
    operator = live_server.token(Role.OPERATOR)
    original = (await post_tip(client, at=(lon, lat), exact=True)).json()[0]["service_request_id"]
    repeat = (await post_tip(client, at=(lon, lat), exact=True)).json()[0]["service_request_id"]
    first, second = (
        await clue_of(client, operator, original),
        await clue_of(client, operator, repeat),
    )
    assert second["state"] == "duplicate"
    async with (
        listen(live_server.ws_url, live_server.token(Role.SQUAD, squad="LD-01")) as ws_1,
        listen(live_server.ws_url, live_server.token(Role.SQUAD, squad="LD-02")) as ws_2,
    ):
        split = await client.post(
            f"/api/v1/clues/{second['id']}/actions",
            json={"action": "unlink", "note": "两个不同的摊位"},
            headers=auth(operator),
        )
        assert split.status_code == 200, split.text
        assert split.json()["state"] == "dispatched"
        ws = ws_1 if split.json()["squad_code"] == "LD-01" else ws_2
        await collect(ws, dispatched(repeat))
    assert (await clue_of(client, operator, original))["report_count"] == 1
    merge = await client.post(
        f"/api/v1/clues/{second['id']}/actions",
        json={"action": "link", "into": first["id"], "note": "同一摊位"},
        headers=auth(operator),
    )
    assert merge.status_code == 200, merge.text
    assert merge.json()["state"] == "duplicate"
    assert (await clue_of(client, operator, original))["report_count"] == 2
    missing_reason = await client.post(
        f"/api/v1/clues/{second['id']}/actions", json={"action": "unlink"}, headers=auth(operator)
    )
    assert missing_reason.status_code == 400
