"""What the fault tests share: a server on a database of the test's own, the burst run
against it with the checks every fault must pass, and the counts printed at the end."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from command_center.settings import Settings
from tests.faults.account import Account, Fault, survive
from tests.faults.burst import personal_data_in
from tests.servers import Serve

COUNTS: list[str] = []  # printed by conftest.pytest_terminal_summary


class Cluster(Protocol):
    """A PostgreSQL the test owns: OwnPostgres, or tests.hacluster.PatroniCluster."""

    def url(self, database: str) -> str: ...

    def conninfo(self, database: str) -> str: ...

    def copy_of(self, template: str, name: str) -> str: ...


def server_env(settings: Settings, database_url: str, redis_url: str | None) -> dict[str, str]:
    """The environment of a `command-center serve` of a fault test: its own database and
    Redis channel, no per-address limits (the burst comes from one address)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": settings.signing_key(),
        "EVENT_CHANNEL": f"{settings.event_channel}:faults:{time.monotonic_ns()}",
        "RESIDENT_REPORTS_PER_MINUTE": "1000000",
        "ADDRESS_REQUESTS_PER_SECOND": "0",
        # every listener and device of the load comes from 127.0.0.1 (issue 15 caps)
        "WEBSOCKET_CONNECTIONS_PER_ADDRESS": "100000",
        "WEBSOCKET_CONNECTIONS_PER_TOKEN": "100000",
        "DEVICE_REQUESTS_PER_SECOND": "0",
        "OUTBOX_POLL_SECONDS": "0.5",
        "SCHEDULER_POLL_SECONDS": "2",
        "MEDIA_DIR": str(settings.media_dir),
        "ENVIRONMENT": "test",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@dataclass
class FaultServer:
    """`command-center serve --workers 2` on `database` of `cluster`."""

    server: Serve
    cluster: Cluster
    database: str
    settings: Settings

    @classmethod
    def start(
        cls,
        *,
        cluster: Cluster,
        database: str,
        settings: Settings,
        log: Path,
        redis_url: str | None,
        **env: str,
    ) -> FaultServer:
        server = Serve(
            server_env(settings, cluster.url(database), redis_url) | env, workers=2, log=log
        )
        server.start()
        return cls(server, cluster, database, settings)

    async def survive(self, label: str, fault: Fault, **options: float) -> Account:
        """Run the burst with `fault` during it; print the counts; fail on any broken
        promise (see burst.account) and on any resident's data in the server's log."""
        result = await survive(
            url=self.server.url,
            conninfo=self.cluster.conninfo(self.database),
            signing_key=self.settings.signing_key(),
            tag=self.database,
            fault=fault,
            **options,  # type: ignore[arg-type]
        )
        line = result.line(label)
        COUNTS.append(line)
        print(line, *result.problems[:20], sep="\n  ")
        assert result.problems == []
        assert result.burst and personal_data_in(self.server.log_text(), result.burst) == []
        assert result.delivered == result.dispatched == result.stored >= result.answered
        return result


async def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)


StartFaultServer = Callable[..., FaultServer]  # the start_fault_server fixture
