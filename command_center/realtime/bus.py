"""Buses carry committed events from the relay to every process's hub.

A bus is only a fast path: a message lost by the bus is found again by the hub's
catch-up from the event log, so no bus needs to be reliable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from redis.exceptions import RedisError

from command_center.realtime.events import Event
from command_center.redisconn import RedisTarget

log = logging.getLogger(__name__)

Deliver = Callable[[list[Event]], Awaitable[None]]


class Bus(Protocol):
    async def start(self, deliver: Deliver, *, on_reconnect: Callable[[], None]) -> None: ...

    async def publish(self, events: list[Event]) -> None:
        """Send committed events to every subscribed process; may raise on outage."""
        ...

    async def stop(self) -> None: ...

    async def healthy(self) -> bool: ...

    @property
    def name(self) -> str: ...


class LocalBus:
    """For one process: publish hands events straight to the local hub."""

    name = "in-process"

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver, *, on_reconnect: Callable[[], None]) -> None:
        self._deliver = deliver

    async def publish(self, events: list[Event]) -> None:
        if self._deliver is not None:
            await self._deliver(events)

    async def stop(self) -> None:
        self._deliver = None

    async def healthy(self) -> bool:
        return True


class RedisBus:
    """Redis pub/sub on one channel; reconnects by itself after an outage."""

    name = "redis"

    def __init__(self, target: RedisTarget, channel: str) -> None:
        self._client = target.client(
            socket_connect_timeout=2, socket_timeout=5, health_check_interval=15
        )
        self._channel = channel
        self._task: asyncio.Task[None] | None = None

    async def start(self, deliver: Deliver, *, on_reconnect: Callable[[], None]) -> None:
        self._task = asyncio.create_task(self._listen(deliver, on_reconnect), name="redis-bus")

    async def publish(self, events: list[Event]) -> None:
        """Publish in one round trip; one retry on a fresh connection (pooled connections
        die with a Redis restart). Subscribers drop duplicates by id."""
        try:
            await self._publish_once(events)
        except (RedisError, OSError):
            await self._publish_once(events)

    async def _publish_once(self, events: list[Event]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(self._channel, event.to_wire())
            await pipe.execute()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()

    async def healthy(self) -> bool:
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def _listen(self, deliver: Deliver, on_reconnect: Callable[[], None]) -> None:
        backoff = 0.2
        while True:
            try:
                async with self._client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    on_reconnect()
                    backoff = 0.2
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            await deliver([Event.from_wire(message["data"])])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("redis bus lost (%s); retrying in %.1fs", type(exc).__name__, backoff)
            except Exception:
                log.exception("redis bus failed; retrying")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
