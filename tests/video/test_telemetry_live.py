"""Body cameras and drones report where they are; operators see them move, in scope."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect

from command_center.auth.model import Role
from command_center.db.session import Database
from gis.crs import to_wgs84
from tests.conftest import LiveServer
from tests.video.peers import Peers, auth, unique_point

QINGTIAN = (120.2840, 28.1420)


def device_id() -> str:
    return f"dr-{secrets.token_hex(4)}"


@asynccontextmanager
async def telemetry_socket(live_server: LiveServer, token: str) -> AsyncIterator[ClientConnection]:
    url = f"ws://127.0.0.1:{live_server.port}/ws/telemetry?token={token}"
    async with connect(url, open_timeout=5) as ws:
        yield ws


async def receive(ws: ClientConnection, until: Any, timeout: float = 5.0) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while not until(messages):
            messages.append(json.loads(await ws.recv()))
    return messages


async def quiet(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                messages.append(json.loads(await ws.recv()))
    except TimeoutError:
        return messages


def position_of(device: str) -> Any:
    return lambda ms: any(m["type"] == "position" and m["device"]["id"] == device for m in ms)


async def last_event_id(database: Database) -> int:
    async with database.sessions() as session:
        return int(
            (await session.execute(text("SELECT COALESCE(max(id), 0) FROM events"))).scalar_one()
        )


async def events_naming(database: Database, device: str, *, after: int) -> list[str]:
    """The types of the events since `after` that name `device` (other tests' servers and
    timers may log events of their own meanwhile)."""
    async with database.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT type FROM events WHERE id > :after "
                "AND strpos(CAST(data AS text), :device) > 0 ORDER BY id"
            ),
            {"after": after, "device": device},
        )
        return [str(row.type) for row in rows]


async def test_a_drone_reporting_gcj02_moves_on_the_operators_screen_in_wgs84(
    live_server: LiveServer, peers: Peers, database: Database
) -> None:
    drone = device_id()
    device = live_server.token(Role.DEVICE, device=drone, squad="LD-01")
    liandu = live_server.token(Role.OPERATOR, jurisdiction="331102")
    qingtian = live_server.token(Role.OPERATOR, jurisdiction="331121")
    lon, lat = unique_point()
    before = await last_event_id(database)

    async with (
        telemetry_socket(live_server, liandu) as ws,
        telemetry_socket(live_server, qingtian) as other,
    ):
        [snapshot] = await receive(ws, lambda ms: len(ms) == 1)
        assert snapshot["type"] == "snapshot"
        await receive(other, lambda ms: len(ms) == 1)
        response = await peers.http.post(
            "/api/v1/telemetry",
            json={
                "lon": lon,
                "lat": lat,
                "crs": "gcj02",
                "heading": 45,
                "altitude": 120,
                "battery": 76,
                "speed": 8.5,
            },
            headers=auth(device),
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"device_id": drone, "accepted": 1, "moved": True, "suspect": 0}
        messages = await receive(ws, position_of(drone))
        assert await quiet(other, 0.5) == []

    [position] = [m for m in messages if m["type"] == "position"]
    expected = to_wgs84(lon, lat, "gcj02")
    assert position["location"]["crs"] == "wgs84"
    assert abs(position["location"]["lon"] - expected[0]) < 1e-6
    assert abs(position["location"]["lat"] - expected[1]) < 1e-6
    assert position["jurisdiction_code"] == "331102"
    assert (position["heading"], position["altitude"], position["battery"]) == (45, 120, 76)
    assert position["device"]["squad_code"] == "LD-01"
    assert position["stream"] is None
    assert await events_naming(database, drone, after=before) == []  # not in the legal log


async def test_a_watcher_gets_the_last_positions_on_connect_and_a_device_may_report_by_websocket(
    live_server: LiveServer, peers: Peers
) -> None:
    drone = device_id()
    device = live_server.token(Role.DEVICE, device=drone, squad="QT-01")
    operator = live_server.token(Role.OPERATOR, jurisdiction="331121")
    now = datetime.now(UTC)
    older = {"lon": QINGTIAN[0], "lat": QINGTIAN[1], "at": (now - timedelta(seconds=5)).isoformat()}
    newer = {"lon": QINGTIAN[0] + 0.001, "lat": QINGTIAN[1], "at": now.isoformat()}

    async with telemetry_socket(live_server, device) as reporter:
        await reporter.send(json.dumps([older, newer]))
        assert json.loads(await reporter.recv()) == {"type": "ack", "accepted": 2}
        await reporter.send(json.dumps({"lon": 500, "lat": 0}))
        error = json.loads(await reporter.recv())
        assert error["type"] == "error" and "lon" in error["detail"]

    async with telemetry_socket(live_server, operator) as ws:
        [snapshot] = await receive(ws, lambda ms: len(ms) == 1)
    [mine] = [p for p in snapshot["positions"] if p["device"]["id"] == drone]
    assert mine["location"]["lon"] == round(newer["lon"], 7)  # the newest point, not the last sent

    stale = {**older, "at": (now - timedelta(seconds=60)).isoformat()}
    late = await peers.http.post("/api/v1/telemetry", json=stale, headers=auth(device))
    assert late.json()["moved"] is False  # stored, but does not move the marker back


async def test_a_live_stream_shows_on_its_devices_marker(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera, squad="LD-01")
    operator = live_server.token(Role.OPERATOR)
    lon, lat = unique_point()
    async with telemetry_socket(live_server, operator) as ws:
        await receive(ws, lambda ms: len(ms) == 1)
        await peers.publish(camera, device)
        stream = await receive(
            ws, lambda ms: any(m["type"] == "stream" and m["device"]["id"] == camera for m in ms)
        )
        await peers.http.post(
            "/api/v1/telemetry", json={"lon": lon, "lat": lat}, headers=auth(device)
        )
        position = await receive(ws, position_of(camera))
    [started] = [m for m in stream if m["type"] == "stream"]
    assert started["stream"] == {
        "name": camera,
        "state": "live",
        "whep": f"/whep/{camera}",
        "reason": None,
    }
    [moved] = [m for m in position if m["type"] == "position"]
    assert moved["stream"]["whep"] == f"/whep/{camera}"


async def test_bad_telemetry_is_refused_with_a_reason(
    live_server: LiveServer, peers: Peers
) -> None:
    device = live_server.token(Role.DEVICE, device=device_id())
    operator = live_server.token(Role.OPERATOR)
    point = {"lon": 119.9, "lat": 28.45}
    http = peers.http
    assert (await http.post("/api/v1/telemetry", json=point)).status_code == 401
    assert (
        await http.post("/api/v1/telemetry", json=point, headers=auth(operator))
    ).status_code == 403
    future = {**point, "at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    refused = await http.post("/api/v1/telemetry", json=future, headers=auth(device))
    assert refused.status_code == 400 and "future" in refused.json()["detail"]
    wrong = await http.post(
        "/api/v1/telemetry", json={**point, "battery": 140}, headers=auth(device)
    )
    assert wrong.status_code == 422 and "battery" in wrong.json()["detail"]
    too_many = await http.post("/api/v1/telemetry", json=[point] * 101, headers=auth(device))
    assert too_many.status_code == 422


async def test_admins_register_devices_and_operators_list_them(
    live_server: LiveServer, peers: Peers
) -> None:
    drone = device_id()
    admin = live_server.token(Role.ADMIN)
    operator = live_server.token(Role.OPERATOR, jurisdiction="331102")
    body = {"kind": "drone", "squad_code": "LD-02", "label": "莲都二中队无人机"}

    assert (
        await peers.http.put(f"/api/v1/devices/{drone}", json=body, headers=auth(operator))
    ).status_code == 403
    unknown = await peers.http.put(
        f"/api/v1/devices/{drone}", json={**body, "squad_code": "XX-99"}, headers=auth(admin)
    )
    assert unknown.status_code == 400
    registered = await peers.http.put(f"/api/v1/devices/{drone}", json=body, headers=auth(admin))
    assert registered.status_code == 200, registered.text
    assert registered.json()["kind"] == "drone"

    listed = (await peers.http.get("/api/v1/devices", headers=auth(operator))).json()
    [mine] = [d for d in listed if d["id"] == drone]
    assert mine["label"] == "莲都二中队无人机" and mine["position"] is None
