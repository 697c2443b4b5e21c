"""Live updates (positions, stream status) between processes: Redis pub/sub on
`EVENT_CHANNEL + ":telemetry"`, or in-process.

Updates are not events: they have no ids, are not stored in the event log and are not
replayed. A lost update is superseded by the next one from the same device. When Redis
cannot take an update, it goes straight to this process's own clients instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from redis.exceptions import RedisError

from command_center.channel import Codec, LocalChannel, RedisChannel
from command_center.redisconn import RedisTarget

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Update:
    """One live message; `key` names what it supersedes (e.g. `position:UAV-7`)."""

    key: str
    body: dict[str, Any]
    jurisdiction_path: tuple[str, ...] = ()
    squad_codes: tuple[str, ...] = ()

    def public_json(self) -> str:
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":"))

    def to_wire(self) -> str:
        return json.dumps(
            {
                "key": self.key,
                "body": self.body,
                "path": list(self.jurisdiction_path),
                "squads": list(self.squad_codes),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_wire(cls, raw: str | bytes) -> Update:
        wire = json.loads(raw)
        return cls(
            key=str(wire["key"]),
            body=dict(wire["body"]),
            jurisdiction_path=tuple(wire.get("path", ())),
            squad_codes=tuple(wire.get("squads", ())),
        )


Deliver = Callable[[Update], None]


class TelemetryBus(Protocol):
    async def start(self, deliver: Deliver) -> None: ...

    async def publish(self, update: Update) -> None:
        """Send to every process's clients; never raises for an outage."""
        ...

    async def stop(self) -> None: ...


UPDATES: Codec[Update] = Codec(encode=Update.to_wire, decode=Update.from_wire)


def _each(deliver: Deliver) -> Callable[[list[Update]], Awaitable[None]]:
    async def receive(updates: list[Update]) -> None:
        for update in updates:
            deliver(update)

    return receive


class LocalTelemetryBus:
    """For one process: updates go straight to the local hub."""

    def __init__(self) -> None:
        self._channel: LocalChannel[Update] = LocalChannel()

    async def start(self, deliver: Deliver) -> None:
        await self._channel.start(_each(deliver), on_reconnect=lambda: None)

    async def publish(self, update: Update) -> None:
        await self._channel.publish([update])

    async def stop(self) -> None:
        await self._channel.stop()


class RedisTelemetryBus:
    """The live channel on Redis (command_center/channel.py), with this process's hub as
    the fallback while Redis cannot take an update."""

    def __init__(self, target: RedisTarget, channel: str) -> None:
        self._channel = RedisChannel(target, channel, UPDATES, label="telemetry bus")
        self._deliver: Deliver | None = None
        self._outage = False

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        await self._channel.start(_each(deliver), on_reconnect=lambda: None)

    async def publish(self, update: Update) -> None:
        try:
            await self._channel.publish([update])
            self._outage = False
        except (RedisError, OSError) as exc:
            if not self._outage:
                log.warning("telemetry: redis unavailable (%s); local clients only", exc)
                self._outage = True
            if self._deliver is not None:
                self._deliver(update)

    async def stop(self) -> None:
        await self._channel.stop()
