"""Several worker processes behind one port: every websocket client, whichever worker it
landed on, gets every event of its scope exactly once and in order."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from command_center.auth import tokens
from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.conftest import free_port
from tests.support import collect, dispatched, listen, tip_id


@pytest.fixture
def two_workers(database: Database, settings: Settings) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.signing_key(),
        "EVENT_CHANNEL": settings.event_channel + ":workers",
        "RESIDENT_REPORTS_PER_MINUTE": "1000000",
        "ADDRESS_REQUESTS_PER_SECOND": "0",
        "OUTBOX_POLL_SECONDS": "0.5",
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "command_center",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd="/",
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            os.killpg(process.pid, signal.SIGKILL)
            raise RuntimeError("two-worker server did not start")
        time.sleep(0.2)
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="several workers need Redis")
async def test_every_listener_gets_every_event_once_in_order(
    two_workers: str, settings: Settings
) -> None:
    operator = tokens.mint(key=settings.signing_key(), role=Role.OPERATOR)
    ws_url = two_workers.replace("http://", "ws://") + "/ws"
    listeners = [listen(ws_url, operator) for _ in range(6)]  # spread over both workers
    sockets = [await listener.__aenter__() for listener in listeners]
    try:
        async with httpx.AsyncClient(base_url=two_workers, timeout=10) as client:
            sids = list(await asyncio.gather(*(tip_id(client) for _ in range(20))))
        for ws in sockets:
            events = await collect(
                ws, lambda es: all(any(dispatched(s)([e]) for e in es) for s in sids), timeout=15
            )
            ids = [e["id"] for e in events]
            assert ids == sorted(ids) and len(ids) == len(set(ids)), "once, in order"
            mine = [e for e in events if e["data"].get("service_request_id") in sids]
            assert len([e for e in mine if e["type"] == "clue.dispatched"]) == 20
    finally:
        for listener in listeners:
            await listener.__aexit__(None, None, None)
