"""`relocate`: an operator fixes a clue's position and it is routed again at once — an
address-only clue waiting "confirm the location, then dispatch" goes to a squad."""

from __future__ import annotations

from typing import Any

import httpx

from command_center.auth.model import Role
from gis.crs import gcj02_to_wgs84, wgs84_to_gcj02
from tests.conftest import LiveServer
from tests.support import LIANDU, STREET_STALLS, clue_events, spread

QINGTIAN_ADDRESS = "浙江省丽水市青田县鹤城街道某路 8 号"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def address_only_clue(client: httpx.AsyncClient, operator: dict[str, str]) -> dict[str, Any]:
    response = await client.post(
        "/open311/v2/requests.json",
        data={"service_code": STREET_STALLS, "address_string": QINGTIAN_ADDRESS},
    )
    assert response.status_code == 200, response.text
    sid = response.json()[0]["service_request_id"]
    queue = (await client.get("/api/v1/clues?state=received", headers=operator)).json()
    [clue] = [c for c in queue if c["service_request_id"] == sid]
    assert clue["queue_reason_code"] == "address_only"
    return dict(clue)


async def relocate(
    client: httpx.AsyncClient, clue_id: int, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/clues/{clue_id}/actions", json={"action": "relocate", **body}, headers=headers
    )


async def test_a_confirmed_position_dispatches_an_address_only_clue(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = auth(live_server.token(Role.OPERATOR))
    clue = await address_only_clue(client, operator)
    lon, lat = spread(LIANDU)
    response = await relocate(
        client, clue["id"], operator, lon=lon, lat=lat, note="caller named the market gate"
    )
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["state"] == "dispatched"
    assert moved["squad_code"] is not None
    assert moved["queue_reason_code"] is None
    assert moved["jurisdiction_code"] != clue["jurisdiction_code"]  # from 青田 to 莲都
    assert abs(moved["location"]["lon"] - lon) < 1e-7
    assert abs(moved["location"]["lat"] - lat) < 1e-7
    record = await clue_events(client, clue["id"], operator, until="clue.dispatched")
    types = [e["type"] for e in record]
    assert types[-2:] == ["clue.relocated", "clue.dispatched"]
    relocated = record[-2]["data"]
    assert relocated["previous_location"] == {
        "lon": round(clue["location"]["lon"], 7),
        "lat": round(clue["location"]["lat"], 7),
        "crs": "wgs84",
    }
    assert relocated["location"] == {"lon": round(lon, 7), "lat": round(lat, 7), "crs": "wgs84"}
    assert relocated["previous_jurisdiction_code"] == clue["jurisdiction_code"]
    assert relocated["note"] == "caller named the market gate"
    assert record[-1]["data"]["squad_code"] == moved["squad_code"]
    assert record[-1]["data"]["deadline"] is not None
    # the squad got it like a new clue: it can accept
    squad = auth(live_server.token(Role.SQUAD, squad=moved["squad_code"]))
    accepted = await client.post(
        f"/api/v1/clues/{clue['id']}/actions", json={"action": "accept"}, headers=squad
    )
    assert accepted.status_code == 200, accepted.text


async def test_a_gcj02_pin_is_stored_in_wgs84(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = auth(live_server.token(Role.OPERATOR))
    clue = await address_only_clue(client, operator)
    lon, lat = spread(LIANDU)
    mars_lon, mars_lat = wgs84_to_gcj02(lon, lat)
    response = await relocate(
        client, clue["id"], operator, lon=mars_lon, lat=mars_lat, crs="gcj02", note="amap pin"
    )
    assert response.status_code == 200, response.text
    expected = gcj02_to_wgs84(mars_lon, mars_lat)
    location = response.json()["location"]
    assert abs(location["lon"] - expected[0]) < 1e-6
    assert abs(location["lat"] - expected[1]) < 1e-6
    assert abs(location["lon"] - mars_lon) > 1e-4  # really converted, not stored as given


async def test_relocate_refuses_what_it_cannot_do_and_changes_nothing(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = auth(live_server.token(Role.OPERATOR))
    clue = await address_only_clue(client, operator)
    lon, lat = spread(LIANDU)
    no_note = await relocate(client, clue["id"], operator, lon=lon, lat=lat)
    assert no_note.status_code == 400
    assert "relocate needs a reason in `note`" in no_note.text
    no_position = await relocate(client, clue["id"], operator, note="here")
    assert no_position.status_code == 400
    assert "`lon` and `lat`" in no_position.text
    bad_crs = await relocate(client, clue["id"], operator, lon=lon, lat=lat, crs="bd09", note="x")
    assert bad_crs.status_code == 422
    nowhere = await relocate(client, clue["id"], operator, lon=2.35, lat=48.85, note="paris")
    assert nowhere.status_code == 400
    assert "outside every jurisdiction" in nowhere.text
    liandu_desk = auth(live_server.token(Role.OPERATOR, jurisdiction="331102"))
    elsewhere = await relocate(client, clue["id"], liandu_desk, lon=lon, lat=lat, note="x")
    assert elsewhere.status_code == 403  # the clue (in 青田) is outside that desk's scope
    grid = auth(live_server.token(Role.GRID_WORKER))
    assert (await relocate(client, clue["id"], grid, lon=lon, lat=lat, note="x")).status_code == 403
    after = (await client.get(f"/api/v1/clues/{clue['id']}", headers=operator)).json()
    assert after["location"] == clue["location"]
    assert after["state"] == "received"
    assert after["queue_reason_code"] == "address_only"
    qingtian_desk = auth(live_server.token(Role.OPERATOR, jurisdiction="331121"))
    away = await relocate(client, clue["id"], qingtian_desk, lon=lon, lat=lat, note="x")
    assert away.status_code == 403  # may not move it out of its own scope
    assert "outside your scope" in away.text
    moved = await relocate(client, clue["id"], operator, lon=lon, lat=lat, note="confirmed")
    assert moved.json()["state"] == "dispatched"
    again = await relocate(client, clue["id"], operator, lon=lon, lat=lat, note="again")
    assert again.status_code == 409  # a dispatched clue is the squad's: no more moving
    assert "dispatched" in again.text
