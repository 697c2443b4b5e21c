"""Live updates (positions, stream status) between processes: Redis pub/sub on
`EVENT_CHANNEL + ":telemetry"`, or in-process.

Updates are not events: they have no ids, are not stored in the event log and are not
replayed. A lost update is superseded by the next one from the same device. When Redis
cannot take an update, it goes straight to this process's own clients instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from redis.exceptions import RedisError

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


class LocalTelemetryBus:
    """For one process: updates go straight to the local hub."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def publish(self, update: Update) -> None:
        if self._deliver is not None:
            self._deliver(update)

    async def stop(self) -> None:
        self._deliver = None


class RedisTelemetryBus:
    """Redis pub/sub on one channel, with this process's hub as the fallback."""

    def __init__(self, target: RedisTarget, channel: str) -> None:
        self._client = target.client(
            socket_connect_timeout=2, socket_timeout=5, health_check_interval=15
        )
        self._channel = channel
        self._deliver: Deliver | None = None
        self._task: asyncio.Task[None] | None = None
        self._outage = False

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._task = asyncio.create_task(self._listen(deliver), name="telemetry-bus")

    async def publish(self, update: Update) -> None:
        try:
            await self._client.publish(self._channel, update.to_wire())
            self._outage = False
        except (RedisError, OSError) as exc:
            if not self._outage:
                log.warning("telemetry: redis unavailable (%s); local clients only", exc)
                self._outage = True
            if self._deliver is not None:
                self._deliver(update)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()

    async def _listen(self, deliver: Deliver) -> None:
        backoff = 0.2
        while True:
            try:
                async with self._client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    backoff = 0.2
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            deliver(Update.from_wire(message["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning(
                    "telemetry bus lost (%s); retrying in %.1fs", type(exc).__name__, backoff
                )
            except Exception:
                log.exception("telemetry bus failed; retrying")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
