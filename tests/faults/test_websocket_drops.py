"""Every squad's websocket dropped abruptly (TCP aborted, no close frame) again and again
during a burst, and reconnected with `after=` the last event it processed: each squad
gets each of its dispatches exactly once and in order, whichever worker it lands on."""

from tests.faults.burst import Burst
from tests.faults.helpers import StartFaultServer, eventually


async def test_websockets_dropped_mid_stream_get_every_event_once(
    start_fault_server: StartFaultServer,
) -> None:
    fault_server = start_fault_server()

    async def whole_burst(burst: Burst) -> None:
        await eventually(lambda: burst.sent >= burst.count, 60, "the burst sent")

    result = await fault_server.survive("websockets dropped", whole_burst, drop_every=1.0)
    assert result.drops >= 50
    assert result.answered == result.sent
