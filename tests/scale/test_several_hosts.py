"""Two `serve` processes on their own ports stand for two hosts behind a load balancer (one
of them with two workers), sharing only PostgreSQL and Redis. Tips go to both at once;
every websocket client, on either host, gets every event of its scope exactly once and
in id order — the event log says which those are — and a client that leaves one host
and resumes on the other with `after=` misses nothing and repeats nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from websockets.asyncio.client import ClientConnection

from command_center.auth import tokens
from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.conftest import free_port
from tests.support import LIANDU, QINGTIAN, listen, tip_id

TIPS_PER_HOST = 15
WAIT_SECONDS = 20


def _serve(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "command_center", "serve", "--port", str(port)]
    return subprocess.Popen(
        [*argv, "--workers", str(workers), "--log-level", "warning"],
        env=env,
        cwd="/",
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"{url} did not start")
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.fixture
def two_hosts(database: Database, settings: Settings) -> Iterator[tuple[str, str]]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.signing_key(),
        "EVENT_CHANNEL": settings.event_channel + ":hosts",
        "RESIDENT_REPORTS_PER_MINUTE": "1000000",
        "ADDRESS_REQUESTS_PER_SECOND": "0",  # every tip comes from 127.0.0.1
        # every listener and device of the load comes from 127.0.0.1 (issue 15 caps)
        "WEBSOCKET_CONNECTIONS_PER_ADDRESS": "100000",
        "WEBSOCKET_CONNECTIONS_PER_TOKEN": "100000",
        "DEVICE_REQUESTS_PER_SECOND": "0",
        "OUTBOX_POLL_SECONDS": "0.5",
        "REDIS_URL": settings.redis_url or "",
    }
    ports = free_port(), free_port()
    processes = [_serve(ports[0], 2, env), _serve(ports[1], 1, env)]
    try:
        urls = tuple(f"http://127.0.0.1:{port}" for port in ports)
        for url, process in zip(urls, processes, strict=True):
            _wait_healthy(url, process)
        yield urls[0], urls[1]
    finally:
        for process in processes:
            _stop(process)


async def _in_scope(database: Database, *, after: int, squad: str | None) -> list[int]:
    """Ids of the events the log holds for an operator (squad None) or a squad."""
    clause = "TRUE" if squad is None else "squad_codes @> ARRAY[CAST(:squad AS text)]"
    async with database.sessions() as session:
        rows = await session.execute(
            text(f"SELECT id FROM events WHERE id > :after AND {clause} ORDER BY id"),
            {"after": after, "squad": squad},
        )
        return [row.id for row in rows]


async def _last_event(database: Database) -> int:
    """The id of the newest event, once the relays have moved every committed change
    (an answered tip's events may still wait in the outbox for a moment)."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            async with database.sessions() as session:
                waiting = await session.scalar(text("SELECT count(*) FROM outbox"))
                last = await session.scalar(text("SELECT COALESCE(max(id), 0) FROM events"))
            if not waiting:
                return int(last or 0)
            await asyncio.sleep(0.05)


async def _drain(ws: ClientConnection, until_id: int, got: list[int]) -> None:
    """Receive into `got` until an event with id >= until_id arrived."""
    async with asyncio.timeout(WAIT_SECONDS):
        while not got or got[-1] < until_id:
            got.append(int(json.loads(await ws.recv())["id"]))


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="several hosts need Redis")
async def test_clients_on_either_host_get_their_scope_once_in_order(
    two_hosts: tuple[str, str], database: Database, settings: Settings
) -> None:
    key = settings.signing_key()
    operator = tokens.mint(key=key, role=Role.OPERATOR)
    qingtian = tokens.mint(key=key, role=Role.SQUAD, squad="QT-01")
    ws = [url.replace("http://", "ws://") + "/ws" for url in two_hosts]
    start = await _last_event(database)
    # Operators and 青田's squad on both hosts (host A's connections spread over its workers).
    plan = [(ws[0], operator, None)] * 3 + [(ws[1], operator, None)] * 2
    plan += [(ws[0], qingtian, "QT-01"), (ws[1], qingtian, "QT-01")]
    contexts = [listen(url, token) for url, token, _ in plan]
    sockets = [await context.__aenter__() for context in contexts]
    mover = await listen(ws[0], operator).__aenter__()  # will move to host B half-way
    got: list[list[int]] = [[] for _ in plan]
    moved: list[int] = []
    try:
        async with (
            httpx.AsyncClient(base_url=two_hosts[0], timeout=15) as host_a,
            httpx.AsyncClient(base_url=two_hosts[1], timeout=15) as host_b,
        ):
            posts: list[Any] = []
            for _ in range(TIPS_PER_HOST):
                posts += [tip_id(host_a, at=QINGTIAN), tip_id(host_b, at=LIANDU)]
            first_half, second_half = posts[: len(posts) // 2], posts[len(posts) // 2 :]
            await asyncio.gather(*first_half)
            half_way = await _last_event(database)
            await _drain(mover, half_way, moved)
            await mover.close()
            async with listen(ws[1], operator, after=moved[-1]) as resumed:
                await asyncio.gather(*second_half)
                end = await _last_event(database)
                await _drain(resumed, end, moved)
        for socket, (_, _, squad), received in zip(sockets, plan, got, strict=True):
            expected = await _in_scope(database, after=start, squad=squad)
            await _drain(socket, expected[-1], received)
            assert received == expected, f"{squad or 'operator'}: every event once, in order"
        assert moved == await _in_scope(database, after=start, squad=None)
        assert len(await _in_scope(database, after=start, squad="QT-01")) >= TIPS_PER_HOST
    finally:
        for context in contexts:
            await context.__aexit__(None, None, None)
