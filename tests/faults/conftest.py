"""Fault tests: each starts `command-center serve --workers 2` on a database of its own
(copied from the demo template of a PostgreSQL cluster of the run's own), breaks
something during a burst of tips, and accounts for every tip. The counts are printed at
the end of the run, whatever pytest's verbosity."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from command_center.settings import Settings
from tests.conftest import DEMO_TEMPLATE
from tests.faults.helpers import COUNTS, Cluster, FaultServer, StartFaultServer
from tests.servers import OwnPostgres


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if COUNTS:
        terminalreporter.section("faults survived: what became of every tip")
        for line in COUNTS:
            terminalreporter.write_line(line)


@pytest.fixture
def start_fault_server(
    own_postgres: OwnPostgres, settings: Settings, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StartFaultServer]:
    """`start(cluster=…, redis_url=…, **env)`: two workers on a fresh copy of the demo city
    in `cluster` (default the run's own), with `redis_url` (default the shared Redis, on a
    channel of their own) and extra environment (`{database}` in a value is the copy's
    name); stopped after the test."""
    started: list[FaultServer] = []
    name = "faults_" + re.sub(r"[^a-z0-9_]", "_", request.node.name.removeprefix("test_"))[:40]

    def start(
        cluster: Cluster = own_postgres,
        redis_url: str | None = os.environ.get("REDIS_URL"),
        **env: str,
    ) -> FaultServer:
        cluster.copy_of(DEMO_TEMPLATE, name)
        server = FaultServer.start(
            cluster=cluster,
            database=name,
            settings=settings,
            log=tmp_path / "server.log",
            redis_url=redis_url,
            **{key: value.format(database=name) for key, value in env.items()},
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.server.stop()
