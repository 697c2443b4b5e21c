"""Signed webhooks: every event in order, signed, retried with backoff after a failure,
each attempt in the delivery log."""

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from command_center.db.session import Database
from command_center.notifications import webhooks
from command_center.notifications.model import (
    SIGNATURE_HEADER,
    backoff_seconds,
    sign,
    standard_secret,
    wants,
)
from tests.conftest import LiveServer
from tests.support import tip_id


class Receiver:
    """Records every POST. Other tests' clues share the database, and an old clue of theirs
    may be dispatched again (its accept window ran out) while a test listens: `of(codes)`
    keeps the deliveries of the test's own clues."""

    def of(self, codes: set[str]) -> list[tuple[dict[str, Any], str, bytes, dict[str, str]]]:
        return [
            (body, signature, raw, headers)
            for (body, signature, raw), headers in zip(self.received, self.headers, strict=True)
            if body["data"].get("service_request_id") in codes
        ]

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], str, bytes]] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(
                    (json.loads(body), self.headers.get(SIGNATURE_HEADER, ""), body)
                )
                receiver.headers.append(dict(self.headers.items()))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


def test_type_filters_and_backoff() -> None:
    assert wants([], "clue.closed")
    assert wants(["clue.*"], "clue.closed") and not wants(["stream.*"], "clue.closed")
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [5, 10, 20]
    assert backoff_seconds(50) == 3600


async def test_events_arrive_signed_and_a_failure_is_retried_later(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database, receiver: Receiver
) -> None:
    async with database.transaction() as session:
        hook_id, secret = await webhooks.add(
            session=session, url=receiver.url, event_types=["clue.dispatched"]
        )
    first = await tip_id(client)
    mine = {first}
    await _until(lambda: len(receiver.of(mine)) >= 1)  # the server's own deliverer
    body, signature, raw, headers = receiver.of(mine)[0]
    assert body["type"] == "clue.dispatched"
    assert body["data"]["service_request_id"] == first
    assert signature == sign(secret, raw)
    # A receiver using the Standard Webhooks library verifies the same request …
    standard = Webhook(standard_secret(secret))
    assert standard.verify(raw, headers) == body
    assert headers["webhook-id"] == str(body["id"])
    with pytest.raises(WebhookVerificationError):  # … and refuses a body changed on the way
        standard.verify(raw.replace(first.encode(), b"W0000000000000"), headers)

    receiver.status = 500
    second = await tip_id(client)
    mine.add(second)
    await _until(lambda: len(receiver.of(mine)) >= 2)
    await asyncio.sleep(2)
    assert len(receiver.of(mine)) == 2, "not retried before its backoff"
    receiver.status = 200
    await _until(lambda: len(receiver.of(mine)) >= 3, seconds=15)
    ours = receiver.of(mine)
    assert [b["data"]["service_request_id"] for b, _, _, _ in ours] == [first, second, second]
    retried, again = ours[1][3], ours[2][3]
    assert retried["webhook-id"] == again["webhook-id"]  # one message, tried twice
    assert standard.verify(ours[2][2], again) == ours[2][0]
    our_events = [int(b["id"]) for b, _, _, _ in ours]

    async def logged() -> list[tuple[int, int]]:
        async with database.sessions() as session:
            rows = await session.execute(
                text(
                    "SELECT status_code, attempt FROM webhook_deliveries WHERE webhook_id = :w "
                    "AND event_id = ANY(:ours) ORDER BY id"
                ),
                {"w": hook_id, "ours": sorted(set(our_events))},
            )
            return [(row.status_code, row.attempt) for row in rows]

    # The deliverer writes an attempt to the log once the receiver has answered it.
    async with asyncio.timeout(5):
        while len(attempts := await logged()) < 3:
            await asyncio.sleep(0.05)
    assert attempts == [(200, 1), (500, 1), (200, 2)]


async def _until(condition: Callable[[], bool], seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.05)


async def test_a_receiver_that_hangs_delays_no_other_webhook(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database, receiver: Receiver
) -> None:
    release = threading.Event()

    class Hanging(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            release.wait(timeout=30)  # far past the deliverer's 10 s request timeout
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    hanging = ThreadingHTTPServer(("127.0.0.1", 0), Hanging)
    threading.Thread(target=hanging.serve_forever, daemon=True).start()
    try:
        async with database.transaction() as session:  # the hanging one is first in line
            stuck, _ = await webhooks.add(
                session=session,
                url=f"http://127.0.0.1:{hanging.server_address[1]}/hook",
                event_types=["clue.dispatched"],
            )
            healthy, _ = await webhooks.add(
                session=session, url=receiver.url, event_types=["clue.dispatched"]
            )
        code = await tip_id(client)
        await _until(lambda: len(receiver.of({code})) >= 1, seconds=4)
    finally:
        async with database.transaction() as session:
            for hook in (stuck, healthy):
                await webhooks.remove(session=session, webhook_id=hook)
        release.set()
        hanging.shutdown()
        hanging.server_close()
