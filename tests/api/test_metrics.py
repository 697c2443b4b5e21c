"""`/metrics` of one server process: intake, dispatch latency, websocket connections and
the database figures."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.conftest import LiveServer, start_server
from tests.metrics_support import scrape, value
from tests.support import collect, dispatched, listen, tip_id


async def test_intake_latency_connections_and_database_figures(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    before = await scrape(client)
    operator = live_server.token(Role.OPERATOR)
    async with listen(live_server.ws_url, operator) as ws:
        code = await tip_id(client)
        await collect(ws, dispatched(code))
        after = await scrape(client)
    received = "command_center_clues_received_total"
    assert (
        value(after, received, channel="open311") == value(before, received, channel="open311") + 1
    )
    latency = "command_center_dispatch_latency_seconds_count"
    assert value(after, latency) == value(before, latency) + 1
    assert value(after, "command_center_dispatch_latency_seconds_bucket", le="60.0") >= 1
    assert value(after, "command_center_websocket_connections", kind="events") >= 1
    pauses = "command_center_gc_pause_seconds_count"
    assert sum(value(after, pauses, generation=g) for g in "012") >= 1
    for gauge in ("overdue_clues", "operator_queue_clues", "outbox_events", "timers_due"):
        assert (f"command_center_{gauge}", ()) in after
    overview = await client.get(
        "/api/v1/stats/overview", headers={"Authorization": f"Bearer {operator}"}
    )
    assert value(after, "command_center_overdue_clues") == overview.json()["overdue"]


async def test_a_metrics_token_is_asked_for_when_set(
    database: Database, settings: Settings
) -> None:
    server = start_server(settings.model_copy(update={"metrics_token": SecretStr("m" * 32)}))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            assert (await http.get("/metrics")).status_code == 401
            ok = await http.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
            assert ok.status_code == 200
    finally:
        server.stop()
