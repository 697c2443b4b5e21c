"""What the video server's stream notices become: events in the log (`stream.started`,
`stream.dropped`, `stream.ended`) and `stream` messages on /ws/telemetry."""

from __future__ import annotations

from typing import Any

from command_center.db.session import Database
from command_center.realtime import outbox
from command_center.telemetry.bus import TelemetryBus
from command_center.video import events
from feeds.video.model import StreamNotice
from feeds.video.streams import VideoServer


class StreamEvents:
    """The observer of the video server (feeds.video.streams.StreamObserver).

    Each notice is one transaction; if the database is down the notice is logged and
    lost from the log (the server keeps streaming), the live update is still pushed.
    """

    def __init__(self, *, database: Database, telemetry: TelemetryBus) -> None:
        self._database = database
        self._telemetry = telemetry

    async def notify(self, notice: StreamNotice) -> None:
        try:
            async with self._database.transaction() as session:
                await outbox.record(session, [events.stream_event(notice)])
        finally:
            await self._telemetry.publish(events.stream_update(notice))


def stream_lookup(video: VideoServer) -> Any:
    """device id → its live stream (`name`, `state`, `whep`) or None, for telemetry."""

    def lookup(device_id: str) -> dict[str, Any] | None:
        return events.stream_link(video.find(device_id))

    return lookup
