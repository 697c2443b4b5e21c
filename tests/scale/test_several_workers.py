"""Several worker processes behind one port: every websocket client, whichever worker it
landed on, gets every event of its scope exactly once and in order."""

import asyncio
import os
from collections.abc import Iterator

import httpx
import pytest

from command_center.auth import tokens
from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.support import collect, dispatched, listen, tip_id
from tests.workers import serve_workers


@pytest.fixture
def two_workers(database: Database, settings: Settings) -> Iterator[str]:
    with serve_workers(settings) as url:
        yield url


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
