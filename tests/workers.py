"""`command-center serve --workers N` as a real process group, for tests of several
worker processes behind one port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from command_center.settings import Settings
from tests.conftest import free_port


@contextmanager
def serve_workers(
    settings: Settings, *, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[str]:
    """The base URL of a server with `workers` processes; stopped (SIGTERM, then SIGKILL
    after 15 s) on exit."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.signing_key(),
        "EVENT_CHANNEL": settings.event_channel + ":workers",
        "RESIDENT_REPORTS_PER_MINUTE": "1000000",
        "ADDRESS_REQUESTS_PER_SECOND": "0",
        # every listener and device of the load comes from 127.0.0.1 (issue 15 caps)
        "WEBSOCKET_CONNECTIONS_PER_ADDRESS": "100000",
        "WEBSOCKET_CONNECTIONS_PER_TOKEN": "100000",
        "DEVICE_REQUESTS_PER_SECOND": "0",
        "OUTBOX_POLL_SECONDS": "0.5",
        "REPORTS_SCHEDULE": "false",
        **(env or {}),
    }
    if settings.redis_url:
        environment["REDIS_URL"] = settings.redis_url
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "command_center", "serve", "--port", str(port)),
            *("--workers", str(workers), "--log-level", "warning"),
        ],
        env=environment,
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
            raise RuntimeError(f"the {workers}-worker server did not start")
        time.sleep(0.2)
    try:
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
