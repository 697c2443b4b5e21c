"""`/metrics` across worker processes: every event counted once, websocket connections
summed over the live workers, whichever worker answers the scrape. (No other server may
run in this module: its relay would move, and count, some of the events.)"""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from command_center.auth import tokens
from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.metrics_support import scrape, value
from tests.support import collect, dispatched, listen, tip_id
from tests.workers import serve_workers


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="several workers need Redis")
async def test_two_workers_add_up(database: Database, settings: Settings) -> None:
    with serve_workers(settings) as url:
        operator = tokens.mint(key=settings.signing_key(), role=Role.OPERATOR)
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            before = await scrape(client)
            listeners = [
                listen(url.replace("http://", "ws://") + "/ws", operator) for _ in range(6)
            ]
            sockets = [await listener.__aenter__() for listener in listeners]
            try:
                codes = list(await asyncio.gather(*(tip_id(client) for _ in range(10))))
                for ws in sockets:
                    await collect(
                        ws, lambda es: all(any(dispatched(c)([e]) for e in es) for c in codes)
                    )
                await asyncio.sleep(2.5)  # every worker samples its connections each 2 s
                # several scrapes: whichever worker answers, the sums are the same
                scrapes = [await scrape(client) for _ in range(6)]
            finally:
                for listener in listeners:
                    await listener.__aexit__(None, None, None)
        received = "command_center_clues_received_total"
        for after in scrapes:
            assert value(after, "command_center_websocket_connections", kind="events") == 6
            grew = value(after, received, channel="open311") - value(
                before, received, channel="open311"
            )
            assert grew == 10
            latency = "command_center_dispatch_latency_seconds_count"
            assert value(after, latency) - value(before, latency) == 10
