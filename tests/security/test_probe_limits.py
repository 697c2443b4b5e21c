"""Issue 15, finding 5 (the limits had holes), performed as the probe did.

- A rotating `X-Forwarded-For` sent from 127.0.0.1 got 300 of 300 requests past the
  per-address limit: uvicorn believed forwarded headers from loopback. Now the server
  believes them only from FORWARDED_ALLOW_IPS (none by default).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from command_center.settings import Settings
from tests.security.world import World, security_env, start_world
from tests.servers import OwnPostgres, Serve

LIMITS = {"ADDRESS_REQUESTS_PER_SECOND": "20"}


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
    answers = await _rotating_forwarded_for(world.url, 300)
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) >= 200, f"only {len(refused)} of 300 refused"
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
