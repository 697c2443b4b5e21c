"""Revocation on every worker: a token revoked in PostgreSQL (no Redis message sent, as
when Redis is down) closes its open websockets with 4401 on both workers of
`serve --workers 2` within 2 s, and its requests answer 401 on both."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from command_center.accounts import service
from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.support import listen
from tests.workers import serve_workers

SOCKETS = 8  # the kernel spreads them over both workers' shared socket


@pytest.fixture
def two_workers(database: Database, settings: Settings) -> Iterator[str]:
    with serve_workers(settings) as url:
        yield url


async def _closed(ws: ClientConnection, started: float) -> tuple[int | None, float]:
    try:
        async with asyncio.timeout(5):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return (closed.rcvd.code if closed.rcvd else None), time.perf_counter() - started
    raise AssertionError("still open")  # pragma: no cover


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="several workers need Redis")
async def test_a_revoked_tokens_sockets_close_on_every_worker(
    two_workers: str, database: Database, settings: Settings
) -> None:
    async with database.transaction() as session:
        minted = await service.mint_recorded(
            session=session,
            key=settings.signing_key(),
            kind="kiosk",
            name="wall screen 2",
            role=Role.OPERATOR,
            days=1,
            policy=service.AccountPolicy.from_settings(settings),
            created_by="test",
        )
    ws_url = two_workers.replace("http://", "ws://") + "/ws"
    listeners = [listen(ws_url, minted.token) for _ in range(SOCKETS)]
    sockets = [await listener.__aenter__() for listener in listeners]
    try:
        async with database.transaction() as session:
            await service.revoke_token(session=session, token_id=minted.record.id, by=None)
        started = time.perf_counter()
        closed = await asyncio.gather(*(_closed(ws, started) for ws in sockets))
    finally:
        for listener in listeners:
            await listener.__aexit__(None, None, None)
    assert [code for code, _ in closed] == [4401] * SOCKETS
    slowest = max(took for _, took in closed)
    assert slowest < 2.0, slowest
    # every worker refuses it 2 s after the revocation at the latest (the sockets may all
    # have been on one worker, and the other may not have looked yet)
    await asyncio.sleep(max(0.0, started + 2.0 - time.perf_counter()))
    async with httpx.AsyncClient(base_url=two_workers, timeout=5) as client:
        for _ in range(6):  # new connections each: both workers answer
            answer = await client.get(
                "/auth/me",
                headers={"Authorization": f"Bearer {minted.token}", "Connection": "close"},
            )
            assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
