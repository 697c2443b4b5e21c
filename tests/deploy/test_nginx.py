"""The shipped nginx configuration in front of `command-center serve`, with a real nginx:
TLS and websockets pass, slow-header clients (slowloris) do not starve anyone and are
closed by the header time-out, a spoofed X-Forwarded-For is ignored whether it comes
through nginx or straight to the service, and the per-address limit counts each real
client on its own.

Clients use distinct loopback addresses (127.0.0.2, .3, …: all of 127/8 is this host)
so that "another client" is another address, as on a network. The service trusts
forwarded headers from nginx's address only (FORWARDED_ALLOW_IPS=127.0.0.1).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from command_center.auth import tokens
from command_center.auth.model import Role
from command_center.settings import Settings
from tests.conftest import DEMO_TEMPLATE
from tests.deploy.nginx import OwnNginx
from tests.faults.helpers import server_env
from tests.servers import OwnPostgres, Serve
from tests.support import LIANDU, spread

PER_SECOND = 10  # ADDRESS_REQUESTS_PER_SECOND of the service behind nginx
HEADER_TIMEOUT = 10  # client_header_timeout of the shipped file


@pytest.fixture(scope="module")
def front(
    own_postgres: OwnPostgres, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[OwnNginx, Serve]]:
    folder = tmp_path_factory.mktemp("nginx")
    url = own_postgres.copy_of(DEMO_TEMPLATE, "deploy_nginx")
    env = server_env(settings, url, None) | {
        "ADDRESS_REQUESTS_PER_SECOND": str(PER_SECOND),
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    service = Serve(env, workers=1, log=folder / "server.log")
    service.start()
    nginx = OwnNginx(folder, service.port)
    try:
        nginx.start()
        yield nginx, service
    finally:
        nginx.stop()
        service.stop()


def _tls(nginx: OwnNginx) -> ssl.SSLContext:
    assert nginx.certificate is not None
    return ssl.create_default_context(cafile=str(nginx.certificate))


def _client(nginx: OwnNginx, source: str, base: str | None = None) -> httpx.AsyncClient:
    """A client whose connections come from the loopback address `source`."""
    transport = httpx.AsyncHTTPTransport(local_address=source, verify=_tls(nginx))
    return httpx.AsyncClient(base_url=base or nginx.url, transport=transport, timeout=10)


async def test_tls_and_a_websocket_through_nginx_carry_a_dispatch(
    front: tuple[OwnNginx, Serve], settings: Settings
) -> None:
    nginx, _ = front
    operator = tokens.mint(key=settings.signing_key(), role=Role.OPERATOR)
    ws_url = nginx.url.replace("https://", "wss://") + f"/ws?token={operator}"
    async with (
        connect(ws_url, ssl=_tls(nginx), open_timeout=5) as ws,
        _client(nginx, "127.0.0.2") as client,
    ):
        lon, lat = spread(LIANDU)
        form = {"service_code": "CG-001", "long": str(lon), "lat": str(lat)}
        answer = await client.post("/open311/v2/requests.json", data=form)
        assert answer.status_code == 200, answer.text
        sid = answer.json()[0]["service_request_id"]
        async with asyncio.timeout(10):
            while True:
                event = json.loads(await ws.recv())
                data = event["data"]
                if event["type"] == "clue.dispatched" and data["service_request_id"] == sid:
                    break
    redirect = await httpx.AsyncClient().get(f"http://127.0.0.1:{nginx.http_port}/health")
    assert redirect.status_code == 301 and redirect.headers["location"].startswith("https://")


async def _slow_header_client(port: int, tls: ssl.SSLContext) -> float:
    """Sends half a request's headers, then a header line every 3 s: the seconds until
    nginx closes the connection."""
    start = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
    writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    await writer.drain()
    try:
        for n in range(10):
            try:
                async with asyncio.timeout(3):
                    if await reader.read(1024) == b"":
                        break
                    break  # nginx answered 408 or closed: either way it let go
            except TimeoutError:
                writer.write(f"X-Slow-{n}: a\r\n".encode())
                await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()
    return time.monotonic() - start


async def test_slow_header_clients_do_not_starve_others_and_are_closed(
    front: tuple[OwnNginx, Serve],
) -> None:
    nginx, _ = front
    tls = _tls(nginx)
    slow = [asyncio.create_task(_slow_header_client(nginx.https_port, tls)) for _ in range(300)]
    await asyncio.sleep(1.0)  # all of them connected and holding
    async with _client(nginx, "127.0.0.3") as client:
        took = []
        for _ in range(10):
            start = time.monotonic()
            answer = await client.get("/health/ready")
            took.append(time.monotonic() - start)
            assert answer.status_code == 200
    assert max(took) < 1.0, f"a normal client waited {max(took):.2f} s beside 300 slow ones"
    held = await asyncio.gather(*slow)
    assert all(seconds < HEADER_TIMEOUT + 4 for seconds in held), (
        f"a slow client was held {max(held):.1f} s (client_header_timeout {HEADER_TIMEOUT} s)"
    )


async def _flood(client: httpx.AsyncClient, count: int, spoof: bool) -> list[int]:
    async def one(n: int) -> int:
        headers = {"X-Forwarded-For": f"203.0.113.{n % 250 + 1}"} if spoof else {}
        return (await client.get("/open311/v2/services.json", headers=headers)).status_code

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def test_the_per_address_limit_counts_each_real_client_and_ignores_spoofing(
    front: tuple[OwnNginx, Serve],
) -> None:
    nginx, service = front
    async with (
        _client(nginx, "127.0.0.4") as flooder,
        _client(nginx, "127.0.0.5") as neighbour,
        _client(nginx, "127.0.0.6", base=service.url) as direct,
    ):
        through_nginx = _flood(flooder, 60, spoof=True)
        neighbour_answers = _flood(neighbour, PER_SECOND // 2, spoof=False)
        flooded, calm = await asyncio.gather(through_nginx, neighbour_answers)
        assert flooded.count(429) >= 30, "a rotating X-Forwarded-For through nginx is one client"
        assert calm == [200] * (PER_SECOND // 2), "another client behind the same nginx is served"
        straight = await _flood(direct, 60, spoof=True)
        assert straight.count(429) >= 30, "X-Forwarded-For from outside the proxy is ignored"
    log = service.log_text()
    assert "127.0.0.4:0 - " in log and "127.0.0.5:0 - " in log, "the log names real clients"
    assert "203.0.113." not in log, "a spoofed address reached the service as the client"
