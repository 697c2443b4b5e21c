"""Helpers shared by the API tests: posting tips and listening on the websocket."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

LIANDU = (119.8218, 28.4719)
QINGTIAN = (120.1547, 28.2108)
STREET_STALLS = "CG-001"


_spots = itertools.count()


def spread(at: tuple[float, float]) -> tuple[float, float]:
    """A point near `at`, ~90 m from every other this session has used, so that tips are
    not linked as duplicates of each other (the demo matters link within 50 m)."""
    n = next(_spots)
    return at[0] + (n % 40) * 0.0009, at[1] + (n // 40 % 40) * 0.0009


async def post_tip(
    client: httpx.AsyncClient,
    *,
    at: tuple[float, float] = LIANDU,
    service_code: str = STREET_STALLS,
    exact: bool = False,
    **fields: str,
) -> httpx.Response:
    """Post an Open311 tip; unless `exact`, at a spot of its own near `at`."""
    lon, lat = at if exact else spread(at)
    form = {"service_code": service_code, "long": str(lon), "lat": str(lat), **fields}
    return await client.post("/open311/v2/requests.json", data=form)


async def tip_id(client: httpx.AsyncClient, **kwargs: Any) -> str:
    response = await post_tip(client, **kwargs)
    assert response.status_code == 200, response.text
    return str(response.json()[0]["service_request_id"])


def listen(ws_url: str, token: str, after: int | None = None) -> Any:
    query = f"?token={token}" + (f"&after={after}" if after is not None else "")
    return connect(ws_url + query, open_timeout=5, max_size=2**22)


async def collect(
    ws: ClientConnection,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 5.0,
) -> list[dict[str, Any]]:
    """Events received until `until(events)` holds; raises TimeoutError with what came."""
    events: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            while not until(events):
                events.append(json.loads(await ws.recv()))
    except TimeoutError:
        raise TimeoutError(
            f"gave up after {timeout}s with {len(events)} events: {events}"
        ) from None
    return events


async def quiet(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Whatever arrives within `seconds` (for asserting that nothing does)."""
    events: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                events.append(json.loads(await ws.recv()))
    except TimeoutError:
        return events


def dispatched(service_request_id: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda events: any(
        e["type"] == "clue.dispatched" and e["data"]["service_request_id"] == service_request_id
        for e in events
    )


async def clue_events(
    client: httpx.AsyncClient, clue_id: int, headers: dict[str, str], until: str
) -> list[dict[str, Any]]:
    """The clue's event log once it holds an event of type `until` (the relay moves a
    committed event into the log a moment later), or as it is after 5 s."""
    record: list[dict[str, Any]] = []
    for _ in range(50):
        record = (await client.get(f"/api/v1/clues/{clue_id}/events", headers=headers)).json()
        if any(event["type"] == until for event in record):
            break
        await asyncio.sleep(0.1)
    return record
