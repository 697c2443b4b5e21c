"""PostgreSQL killed (as a crash: `pg_ctl stop -m immediate`) in the middle of a burst
and started again 2 s later, on a cluster this test owns. Tips sent meanwhile are
refused with a clear 503 and none of them is stored half-way; every answered tip is
stored, dispatched once and reaches its squad once; the service recovers by itself."""

import asyncio
from collections.abc import Iterator

import pytest

from tests.conftest import DEMO_TEMPLATE
from tests.faults.burst import Burst
from tests.faults.helpers import StartFaultServer, eventually
from tests.servers import OwnPostgres, demo_cluster


@pytest.fixture
def breakable_postgres() -> Iterator[OwnPostgres]:
    """A cluster of this test's own: it is killed mid-test."""
    with demo_cluster(DEMO_TEMPLATE) as cluster:
        yield cluster


async def test_postgres_restarted_mid_burst_stores_every_answered_tip(
    breakable_postgres: OwnPostgres, start_fault_server: StartFaultServer
) -> None:
    cluster = breakable_postgres
    started = start_fault_server(cluster=cluster)

    async def restart_postgres(burst: Burst) -> None:
        await eventually(lambda: burst.sent >= 80, 30, "a third of the burst sent")
        await asyncio.to_thread(cluster.stop, "immediate")
        await asyncio.sleep(2)
        await asyncio.to_thread(cluster.start)

    result = await started.survive("PostgreSQL killed and restarted", restart_postgres)
    assert result.refused > 0, "the outage was felt"
    assert set(result.refusals) <= {"503"}, "refused with a clear answer, not a server error"
    assert "Traceback" not in started.server.log_text()
