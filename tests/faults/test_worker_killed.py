"""A worker process killed with SIGKILL in the middle of a burst of tips: a tip it had in
hand gets no answer (and is either stored in full or not at all), every answered tip is
stored, dispatched once and reaches its squad once, and uvicorn's supervisor starts a
new worker."""

import os
import signal

from tests.faults.burst import Burst
from tests.faults.helpers import StartFaultServer, eventually


async def test_a_worker_killed_mid_burst_loses_no_answered_tip(
    start_fault_server: StartFaultServer,
) -> None:
    fault_server = start_fault_server()
    server = fault_server.server
    before = server.worker_pids()
    assert len(before) == 2

    async def kill_one_worker(burst: Burst) -> None:
        await eventually(lambda: burst.sent >= 80, 30, "a third of the burst sent")
        await eventually(lambda: burst.in_flight >= 1, 10, "a tip in flight")
        os.kill(before[0], signal.SIGKILL)
        await eventually(
            lambda: len(server.worker_pids()) == 2 and before[0] not in server.worker_pids(),
            30,
            "the supervisor replaced the killed worker",
        )

    result = await fault_server.survive("worker killed (SIGKILL)", kill_one_worker)
    assert result.answered >= result.sent - 16, "only tips in flight at the kill are lost"
