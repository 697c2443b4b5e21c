"""`serve --workers N` answers keep-alive requests without Nagle's 40 ms stall: every
accepted connection has TCP_NODELAY, on the asyncio loop too (uvloop sets it itself)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from command_center.db.session import Database
from command_center.serving import ListenError, listening_socket
from command_center.settings import Settings
from tests.conftest import free_port

SYS_PIDFD_OPEN, SYS_PIDFD_GETFD = 434, 438  # Linux 5.6+, the same on x86-64 and arm64


def _nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_connections_accepted_by_asyncio_on_the_socket_have_nodelay() -> None:
    # The trap is in asyncio's loop, whatever loop runs the tests: use it explicitly.
    loop = asyncio.SelectorEventLoop()
    accepted: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.append(_nodelay(transport.get_extra_info("socket")))
            transport.close()

    sock = listening_socket("127.0.0.1", 0)
    try:
        server = loop.run_until_complete(loop.create_server(Probe, sock=sock))
        port = sock.getsockname()[1]
        client = loop.run_until_complete(asyncio.open_connection("127.0.0.1", port))
        while not accepted:
            loop.run_until_complete(asyncio.sleep(0.01))
        client[1].close()
        server.close()
        loop.run_until_complete(server.wait_closed())
    finally:
        loop.close()
    assert accepted == [1], "the accepted connection must not keep Nagle's algorithm"


def test_an_address_in_use_is_refused_by_name() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenError, match=f"127.0.0.1:{port}"):
            listening_socket("127.0.0.1", port)


def _peer_sockets(pid: int, port: int) -> list[int]:
    """TCP_NODELAY of every connection process `pid` accepted on `port` (Linux pidfd)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        pytest.skip(f"pidfd_open unavailable: errno {ctypes.get_errno()}")
    found = []
    try:
        for entry in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if not os.readlink(entry).startswith("socket:"):
                    continue
            except OSError:
                continue
            copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(entry.name), 0)
            if copy < 0:
                pytest.skip(f"pidfd_getfd not permitted: errno {ctypes.get_errno()}")
            with socket.socket(fileno=copy) as sock:
                if sock.family != socket.AF_INET or sock.type != socket.SOCK_STREAM:
                    continue
                try:
                    sock.getpeername()
                except OSError:
                    continue  # the listening socket
                if sock.getsockname()[1] == port:
                    found.append(_nodelay(sock))
    finally:
        os.close(pidfd)
    return found


@pytest.fixture
def two_asyncio_workers(database: Database, settings: Settings) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.signing_key(),
        "EVENT_CHANNEL": settings.event_channel + ":nodelay",
    }
    argv = [sys.executable, "-m", "command_center", "serve", "--port", str(port), "--workers"]
    process = subprocess.Popen(
        [*argv, "2", "--loop", "asyncio", "--log-level", "warning"],
        env=env,
        cwd="/",
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("two-worker server did not start")
            time.sleep(0.2)
        yield process.pid, port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _workers(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(pid) for pid in children]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads sockets through pidfd")
def test_every_worker_connection_of_serve_has_nodelay(two_asyncio_workers: tuple[int, int]) -> None:
    parent, port = two_asyncio_workers
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        for _ in range(3):  # keep-alive: the same connection each time
            assert client.get("/health").status_code == 200
        options = [flag for pid in _workers(parent) for flag in _peer_sockets(pid, port)]
    assert options, "the worker that answered holds the connection"
    assert all(options), f"TCP_NODELAY per accepted connection: {options}"
