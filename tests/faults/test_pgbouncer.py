"""The request path through pgbouncer in transaction mode, and PostgreSQL crashing behind
it mid-burst (as a failover looks to pgbouncer: every server connection gone).

pgbouncer cannot carry LISTEN/NOTIFY nor session advisory locks: the relay's LISTEN goes
straight to PostgreSQL (DATABASE_LISTEN_URL) and its lock is transaction-scoped
(pg_try_advisory_xact_lock), so it works through pgbouncer; psycopg's prepared
statements are off (DATABASE_PREPARED_STATEMENTS=false, pgbouncer 1.18). After the
crash the relay listens again and scans the outbox: every answered tip is dispatched
and delivered once. OUTBOX_POLL_SECONDS is 30 here, so only NOTIFY (and the re-scan on
reconnecting) brings tips to their squads in time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.conftest import DEMO_TEMPLATE
from tests.faults.burst import Burst
from tests.faults.helpers import StartFaultServer, eventually
from tests.pgbouncer import OwnPgbouncer
from tests.servers import OwnPostgres, demo_cluster


@pytest.fixture
def behind_pgbouncer() -> Iterator[tuple[OwnPostgres, OwnPgbouncer]]:
    with demo_cluster(DEMO_TEMPLATE) as cluster:
        bouncer = OwnPgbouncer(cluster.port)
        bouncer.start()
        try:
            yield cluster, bouncer
        finally:
            bouncer.stop()


async def test_through_pgbouncer_a_crash_behind_it_loses_no_answered_tip(
    behind_pgbouncer: tuple[OwnPostgres, OwnPgbouncer], start_fault_server: StartFaultServer
) -> None:
    cluster, bouncer = behind_pgbouncer
    started = start_fault_server(
        cluster=cluster,
        DATABASE_URL=bouncer.url("{database}"),
        DATABASE_LISTEN_URL=cluster.url("{database}"),
        DATABASE_PREPARED_STATEMENTS="false",
        OUTBOX_POLL_SECONDS="30",
    )

    async def crash_postgres(burst: Burst) -> None:
        await eventually(lambda: burst.sent >= 80, 30, "a third of the burst sent")
        await asyncio.to_thread(cluster.stop, "immediate")
        await asyncio.sleep(2)
        await asyncio.to_thread(cluster.start)

    result = await started.survive("through pgbouncer, PostgreSQL crashed", crash_postgres)
    assert set(result.refusals) <= {"503"}, "refused with a clear answer, not a server error"
    assert result.slowest_after_fault < 2.0, "the relay listens again (the poll is 30 s)"
    assert "Traceback" not in started.server.log_text()
    assert f"login attempt: db={started.database} user=" in bouncer.log(), "through pgbouncer"
