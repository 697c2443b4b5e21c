"""What each caller sees: lists, the event stream (replayed and live) and positions hold
only what is in its scope. A squad never sees another squad's clues or another
jurisdiction's devices; a district's operator never sees another district's."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from command_center.auth import tokens
from command_center.auth.model import Role
from tests.security.world import World

# Which of the seeded clues (A in 莲都 for LD-01, B in 青田 for QT-01) and devices each
# caller must see — and so which it must not.
SEES = {
    "squad": ({"A"}, {"CAM-LD-01"}),
    "other_squad": ({"B"}, {"CAM-QT-01"}),
    "grid_worker": ({"A"}, {"CAM-LD-01"}),
    "operator": ({"A", "B"}, {"CAM-LD-01", "CAM-QT-01"}),
    "other_operator": ({"B"}, {"CAM-QT-01"}),
    "supervisor": ({"A"}, {"CAM-LD-01"}),
    "admin": ({"A", "B"}, {"CAM-LD-01", "CAM-QT-01"}),
}
DEVICES = {"CAM-LD-01", "CAM-QT-01"}


def _names(world: World, clue_ids: set[int]) -> set[str]:
    return {name for name, cid in (("A", world.clue_a), ("B", world.clue_b)) if cid in clue_ids}


@pytest.mark.parametrize("caller", SEES)
async def test_lists_and_records_hold_only_what_is_in_scope(caller: str, world: World) -> None:
    clues, devices = SEES[caller]
    async with httpx.AsyncClient(base_url=world.url, headers=world.headers(caller)) as client:
        listed = (await client.get("/api/v1/clues", params={"limit": 500})).json()
        assert _names(world, {c["id"] for c in listed}) == clues
        found = (await client.get("/api/v1/devices")).json()
        assert {d["id"] for d in found} & DEVICES == devices
        for name, clue_id in (("A", world.clue_a), ("B", world.clue_b)):
            for path in ("", "/events", "/documents"):
                answer = await client.get(f"/api/v1/clues/{clue_id}{path}")
                assert answer.status_code == (200 if name in clues else 403), (name, path)


@pytest.mark.parametrize("caller", SEES)
async def test_event_replay_and_positions_hold_only_what_is_in_scope(
    caller: str, world: World
) -> None:
    clues, devices = SEES[caller]
    ws = world.url.replace("http://", "ws://")
    token = world.token(caller)
    async with connect(f"{ws}/ws?token={token}&after=0") as events:
        replayed = await _until_quiet(events)
    assert _names(world, {e["data"].get("clue_id") for e in replayed}) == clues
    async with connect(f"{ws}/ws/telemetry?token={token}") as positions:
        snapshot = json.loads(await positions.recv())
    assert {p["device"]["id"] for p in snapshot["positions"]} & DEVICES == devices


async def test_live_events_and_positions_of_another_district_never_reach_a_squad(
    world: World,
) -> None:
    """LD-01 listens while 青田 gets a tip and its device moves; only QT-01 hears."""
    ws = world.url.replace("http://", "ws://")
    mine, theirs = world.token("squad"), world.token("other_squad")
    qt_device = tokens.mint(key=world.signing_key, role=Role.DEVICE, device="CAM-QT-01")
    async with (
        connect(f"{ws}/ws?token={mine}") as squad_events,
        connect(f"{ws}/ws/telemetry?token={mine}") as squad_positions,
        connect(f"{ws}/ws?token={theirs}") as other_events,
        connect(f"{ws}/ws/telemetry?token={theirs}") as other_positions,
        httpx.AsyncClient(base_url=world.url) as client,
    ):
        await squad_positions.recv(), await other_positions.recv()  # snapshots
        tip = await client.post(
            "/open311/v2/requests.json",
            data={"service_code": "CG-001", "lat": "28.1440", "long": "120.2860"},
        )
        code = tip.json()[0]["service_request_id"]
        moved = await client.post(
            "/api/v1/telemetry",
            json={"lon": 120.2850, "lat": 28.1430},
            headers={"Authorization": f"Bearer {qt_device}"},
        )
        assert moved.status_code == 200
        heard = await _until_quiet(other_events)
        assert any(e["data"].get("service_request_id") == code for e in heard)
        assert json.loads(await other_positions.recv())["device"]["id"] == "CAM-QT-01"
        assert await _until_quiet(squad_events) == []
        assert await _until_quiet(squad_positions) == []


async def _until_quiet(ws: Any, quiet: float = 0.7) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while True:
        try:
            async with asyncio.timeout(quiet):
                got.append(json.loads(await ws.recv()))
        except TimeoutError:
            return got
