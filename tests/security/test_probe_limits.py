"""Issue 15, finding 5 (the limits had holes), performed as the probe did.

- A rotating `X-Forwarded-For` sent from 127.0.0.1 got 300 of 300 requests past the
  per-address limit: uvicorn believed forwarded headers from loopback. Now the server
  believes them only from FORWARDED_ALLOW_IPS (none by default).
- A valid device token was exempt from every limit (189 requests/s accepted). Now a
  device has its own budget (DEVICE_REQUESTS_PER_SECOND); staff tokens stay uncounted.
- 400 websockets on one token from one address were accepted. Now open sockets are
  capped per address and per token (WEBSOCKET_CONNECTIONS_PER_ADDRESS, _PER_TOKEN): the
  one past a cap is closed with code 4429 and a reason naming the cap.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from command_center.settings import Settings
from tests.security.world import World, security_env, start_world
from tests.servers import OwnPostgres, Serve

PER_SECOND = 20
LIMITS = {
    "ADDRESS_REQUESTS_PER_SECOND": str(PER_SECOND),
    "DEVICE_REQUESTS_PER_SECOND": str(PER_SECOND),
    "WEBSOCKET_CONNECTIONS_PER_TOKEN": "5",
    "WEBSOCKET_CONNECTIONS_PER_ADDRESS": "8",
}


def assert_budget_held(answers: list[httpx.Response], seconds: float) -> list[httpx.Response]:
    """The refused answers, after checking that no more were served than the budget of
    PER_SECOND allows over the `seconds` the burst took (a slow machine spreads a burst
    over more seconds, so a fixed count of refusals would cry wolf)."""
    refused = [a for a in answers if a.status_code == 429]
    served = len(answers) - len(refused)
    assert refused, f"all {len(answers)} served in {seconds:.1f} s"
    assert served <= PER_SECOND * (math.ceil(seconds) + 1), (served, seconds)
    return refused


@pytest.fixture(scope="module")
def world(
    own_postgres: OwnPostgres, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    log = tmp_path_factory.mktemp("probe_limits") / "server.log"
    made = start_world(own_postgres, settings, "probe_limits", log, **LIMITS)
    yield made
    made.server.stop()


async def _rotating_forwarded_for(url: str, count: int) -> list[httpx.Response]:
    """The probe: every request names another client address in X-Forwarded-For."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        gate = asyncio.Semaphore(20)

        async def hit(n: int) -> httpx.Response:
            forged = {"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"}
            async with gate:
                return await client.get("/open311/v2/services.json", headers=forged)

        return await asyncio.gather(*(hit(n) for n in range(count)))


async def test_a_rotating_forwarded_for_from_an_untrusted_peer_is_one_address(
    world: World,
) -> None:
    started = time.monotonic()
    answers = await _rotating_forwarded_for(world.url, 300)
    refused = assert_budget_held(answers, time.monotonic() - started)
    assert int(refused[0].headers["Retry-After"]) >= 1
    log = world.server.log_text()
    assert "198.51.0.7" not in log, "the forged address reached the access log as the client"


async def test_a_configured_proxy_is_believed(
    world: World, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Behind nginx (FORWARDED_ALLOW_IPS=127.0.0.1) each forwarded client is its own
    address again: the same 300 requests are all served, and the log names the client."""
    env = security_env(
        settings,
        world.cluster.url(world.database),
        FORWARDED_ALLOW_IPS="127.0.0.1",
        **LIMITS,
    )
    log = tmp_path_factory.mktemp("probe_limits_proxy") / "server.log"
    behind_proxy = Serve(env, workers=1, log=log)
    behind_proxy.start()
    try:
        answers = await _rotating_forwarded_for(behind_proxy.url, 300)
        assert {a.status_code for a in answers} == {200}
        assert "198.51.0.7:0 - " in behind_proxy.log_text()
    finally:
        behind_proxy.stop()


async def test_a_device_token_has_its_own_budget_and_staff_are_not_counted(world: World) -> None:
    device = world.headers("device")
    async with httpx.AsyncClient(base_url=world.url, timeout=10) as client:
        gate = asyncio.Semaphore(20)

        async def report(n: int) -> httpx.Response:
            body = {"lon": 119.9185 + n * 1e-6, "lat": 28.4705}
            async with gate:
                return await client.post("/api/v1/telemetry", json=body, headers=device)

        started = time.monotonic()
        answers = await asyncio.gather(*(report(n) for n in range(300)))
        refused = assert_budget_held(answers, time.monotonic() - started)
        assert "too many requests from this device" in refused[0].json()["detail"]
        assert int(refused[0].headers["Retry-After"]) >= 1
        staff = await asyncio.gather(
            *(client.get("/api/v1/clues", headers=world.headers("operator")) for _ in range(60))
        )
        assert {a.status_code for a in staff} == {200}


async def _closed_with(ws: ClientConnection) -> tuple[int | None, str]:
    try:
        async with asyncio.timeout(5):
            await ws.recv()
    except ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError("the socket past the cap stayed open")


async def _open(stack: AsyncExitStack, url: str, **kwargs: object) -> ClientConnection:
    return await stack.enter_async_context(connect(url, **kwargs))  # type: ignore[arg-type]


@pytest.fixture
async def sockets() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


async def test_websockets_are_capped_per_token_and_per_address(
    world: World, sockets: AsyncExitStack
) -> None:
    ws = world.url.replace("http://", "ws://")
    operator, supervisor = world.token("operator"), world.token("supervisor")
    held = [await _open(sockets, f"{ws}/ws?token={operator}") for _ in range(5)]
    sixth = await _open(sockets, f"{ws}/ws?token={operator}")
    code, reason = await _closed_with(sixth)
    assert code == 4429 and "this token (at most 5)" in reason
    # another token from the same address: 3 more, then the address's cap of 8
    held += [await _open(sockets, f"{ws}/ws/telemetry?token={supervisor}") for _ in range(3)]
    ninth = await _open(sockets, f"{ws}/ws/telemetry?token={supervisor}")
    code, reason = await _closed_with(ninth)
    assert code == 4429 and "this address (at most 8)" in reason
    # from another address that token still connects, and the held sockets are fine
    other = await _open(
        sockets, f"{ws}/ws/telemetry?token={supervisor}", local_addr=("127.0.0.2", 0)
    )
    assert other.state.name == "OPEN" and all(s.state.name == "OPEN" for s in held)
    # a closed socket gives its place back
    await held[0].close()
    await asyncio.sleep(0.3)
    again = await _open(sockets, f"{ws}/ws/telemetry?token={world.token('admin')}")
    await again.ping()
    assert again.state.name == "OPEN"
