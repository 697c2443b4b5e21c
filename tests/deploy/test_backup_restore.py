"""Backups that restore: pgBackRest takes a full backup of a running city, more tips come
in, and the backup plus the archived WAL are restored into a fresh cluster up to a moment
between two bursts of tips. The restored city has exactly the clues and events it had at
that moment, and its audit chain verifies. The figures (database size, backup and restore
seconds, WAL replayed) are printed; docs/deploy.md estimates a year of a large city
from them."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from command_center.settings import Settings
from tests.backups import Backups
from tests.conftest import DEMO_TEMPLATE, LiveServer, start_server
from tests.servers import OwnPostgres, demo_cluster
from tests.support import post_tip

CITY = "backup_city"


@pytest.fixture
def city(settings: Settings) -> Iterator[tuple[OwnPostgres, LiveServer]]:
    with demo_cluster(DEMO_TEMPLATE) as cluster:
        url = cluster.copy_of(DEMO_TEMPLATE, CITY)
        server = start_server(settings.model_copy(update={"database_url": url, "redis_url": None}))
        try:
            yield cluster, server
        finally:
            server.stop()


def _figures(cluster: OwnPostgres) -> tuple[int, int, int]:
    """(clues, last event id, outbox rows) of the city."""
    with cluster.connect(CITY) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM clues), (SELECT coalesce(max(id), 0) FROM events),"
            " (SELECT count(*) FROM outbox)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


async def _tips(server: LiveServer, cluster: OwnPostgres, count: int) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        for _ in range(count):
            assert (await post_tip(client)).status_code == 200
    deadline = time.monotonic() + 10
    while _figures(cluster)[2] and time.monotonic() < deadline:  # the relay has moved them
        await asyncio.sleep(0.1)


async def test_point_in_time_restore_matches_that_moment(
    city: tuple[OwnPostgres, LiveServer],
) -> None:
    cluster, server = city
    backups = Backups(cluster)
    await asyncio.to_thread(backups.configure)
    backup_s = await asyncio.to_thread(backups.run, "--type=full", "backup")
    await _tips(server, cluster, 30)
    with cluster.connect(CITY) as conn:
        await asyncio.sleep(0.5)
        row = conn.execute("SELECT clock_timestamp()::text").fetchone()
        assert row is not None
        target = str(row[0])
        await asyncio.sleep(0.5)
    at_target = _figures(cluster)
    await _tips(server, cluster, 20)
    assert _figures(cluster)[0] == at_target[0] + 20
    await asyncio.to_thread(backups.run, "check")  # the last WAL segment is archived
    with cluster.connect(CITY) as conn:
        size_row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    database_bytes = int(size_row[0]) if size_row else 0

    restored = OwnPostgres()
    try:
        restored.data.mkdir(mode=0o700)
        shutil.chown(restored.data, "postgres", "postgres")
        restore_s = await asyncio.to_thread(backups.restore, restored.data, target)
        start = time.monotonic()
        await asyncio.to_thread(restored.start, "-c archive_mode=off")
        while True:
            with restored.connect(CITY) as conn:
                row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if row and not row[0]:
                break
            assert time.monotonic() - start < 60, "the restored cluster did not promote"
            await asyncio.sleep(0.2)
        replay_s = time.monotonic() - start
        clues, last_event, _ = _figures(restored)
        assert (clues, last_event) == at_target[:2], "the restored city is the one at the target"
        verified = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "command_center", "audit", "verify"],
            env={**os.environ, "DATABASE_URL": restored.url(CITY)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert verified.returncode == 0 and "chain intact" in verified.stdout, verified.stdout
    finally:
        restored.remove()
    print(
        f"\nbackup and restore: database {database_bytes / 2**20:.0f} MiB, full backup "
        f"{backup_s:.1f} s, repository {backups.backup_size() / 2**20:.1f} MiB; restore "
        f"{restore_s:.1f} s, WAL replay to the target and promotion {replay_s:.1f} s; "
        f"{at_target[0]} clues and {at_target[1]} events at the target, chain intact"
    )
