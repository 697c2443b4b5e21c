"""The primary's host dies in the middle of a burst: Patroni and every PostgreSQL process
of the primary node get SIGKILL. Patroni promotes the synchronous standby; the service,
whose DATABASE_URL names both nodes with target_session_attrs=read-write, finds it by
itself (pooled connections, the relay's LISTEN, the scheduler, the hubs' catch-up).

Every tip answered with an id is on the new primary (synchronous replication: the commit
waited for the standby), dispatched once and delivered once; tips during the switch get
503 with Retry-After, never 500; the audit chain verifies on the new primary; the
seconds without service are printed. Patroni's timing here: tests.hacluster.TIMING.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import DEMO_TEMPLATE
from tests.faults.burst import Burst, spot
from tests.faults.helpers import COUNTS, StartFaultServer, eventually
from tests.hacluster import TIMING, PatroniCluster, patroni_cluster

RETRIED_FROM = 2000  # the retries' numbers (their own spots, away from the burst's)
OUTAGE_TARGET = 30.0 if TIMING["ttl"] <= 10 else 60.0  # seconds (Patroni's defaults: ttl 30)


@pytest.fixture
def patroni() -> Iterator[PatroniCluster]:
    with patroni_cluster(2, prepare=lambda c: c.create_demo_database(DEMO_TEMPLATE)) as cluster:
        yield cluster


def outage_seconds(burst: Burst, killed_at: float) -> float:
    """From the kill to the first answer with an id after the last refusal."""
    refused = [t.finished_at for t in burst.refused() if t.finished_at]
    last_refusal = max(refused, default=killed_at)
    after = [t.answered_at for t in burst.answered() if (t.answered_at or 0) > last_refusal]
    return min(after) - killed_at if after else float("inf")


async def test_primary_killed_mid_burst_fails_over_and_loses_no_answered_tip(
    patroni: PatroniCluster, start_fault_server: StartFaultServer
) -> None:
    started = start_fault_server(cluster=patroni)
    killed: dict[str, float] = {}
    retry_after: list[str | None] = []

    async def kill_primary(burst: Burst) -> None:
        await eventually(lambda: burst.sent >= 80, 30, "a third of the burst sent")
        old = patroni.primary()
        assert old is not None and patroni.synchronous_standby() is not None
        await asyncio.to_thread(old.kill)
        killed["at"] = time.monotonic()
        async with httpx.AsyncClient(base_url=started.server.url, timeout=10) as client:
            lon, lat = spot(10_000)
            form = {"service_code": "CG-001", "long": str(lon), "lat": str(lat)}
            probe = await client.post("/open311/v2/requests.json", data=form)
            if probe.status_code == 503:
                retry_after.append(probe.headers.get("Retry-After"))
        await eventually(
            lambda: (new := patroni.primary()) is not None and new is not old, 60, "a new primary"
        )
        killed["promoted"] = time.monotonic() - killed["at"]

    result = await started.survive("Patroni primary SIGKILLed", kill_primary)
    assert result.burst is not None
    outage = outage_seconds(result.burst, killed["at"])
    COUNTS[-1] += (
        f"; {outage:.1f} s without service (standby promoted after {killed['promoted']:.1f} s;"
        f" ttl {TIMING['ttl']} s, loop_wait {TIMING['loop_wait']} s)"
    )
    print(COUNTS[-1])
    assert set(result.refusals) <= {"503"}, "refused with a clear answer, never a 500"
    refused = result.burst.refused()[:20]
    retried = [await result.burst.send_one(RETRIED_FROM + tip.n) for tip in refused]
    assert all(tip.service_request_id for tip in retried), "a refused tip succeeds when retried"
    assert all(value == "2" for value in retry_after), "a 503 says when to try again"
    assert outage < OUTAGE_TARGET
    assert "Traceback" not in started.server.log_text()
    verified = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "command_center", "audit", "verify"],
        env={**os.environ, "DATABASE_URL": patroni.url(started.database)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0 and "chain intact" in verified.stdout, verified.stdout
