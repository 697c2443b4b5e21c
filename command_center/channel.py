"""One live channel between the processes of the service: Redis pub/sub on one channel
name, or in-process for a single process. A codec turns a message into its wire text and
back. Both live hubs sit on it and differ above it: the event bus (realtime/bus.py:
ordered and durable, any gap filled from the event log) and telemetry (telemetry/bus.py:
the newest update per device, nothing replayed).

The channel is a fast path only: it reconnects by itself with back-off, and a message it
loses is the hub's to make good (or to forget), never the channel's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from redis.exceptions import RedisError

from command_center.redisconn import RedisTarget

log = logging.getLogger(__name__)

T = TypeVar("T")
Receive = Callable[[list[T]], Awaitable[None]]

FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0


@dataclass(frozen=True, slots=True)
class Codec(Generic[T]):
    encode: Callable[[T], str]
    decode: Callable[[str | bytes], T]


class LocalChannel(Generic[T]):
    """For one process: what is published is received at once, as one batch."""

    name = "in-process"

    def __init__(self) -> None:
        self._receive: Receive[T] | None = None

    async def start(self, deliver: Receive[T], *, on_reconnect: Callable[[], None]) -> None:
        self._receive = deliver

    async def publish(self, messages: Sequence[T]) -> None:
        if self._receive is not None:
            await self._receive(list(messages))

    async def stop(self) -> None:
        self._receive = None

    async def healthy(self) -> bool:
        return True


class RedisChannel(Generic[T]):
    """Redis pub/sub on `channel`; each subscriber receives every message as a batch of
    one. `on_reconnect` is called on every (re)subscription, so a hub can catch up on what
    it missed while the channel was down."""

    name = "redis"

    def __init__(self, target: RedisTarget, channel: str, codec: Codec[T], *, label: str) -> None:
        self._client = target.client(
            socket_connect_timeout=2, socket_timeout=5, health_check_interval=15
        )
        self._channel = channel
        self._codec = codec
        self._label = label
        self._task: asyncio.Task[None] | None = None

    async def start(self, deliver: Receive[T], *, on_reconnect: Callable[[], None]) -> None:
        self._task = asyncio.create_task(self._listen(deliver, on_reconnect), name=self._label)

    async def publish(self, messages: Sequence[T]) -> None:
        """Publish in one round trip, with one retry on a fresh connection (pooled
        connections die with a Redis restart); raises when Redis cannot be reached."""
        try:
            await self._publish_once(messages)
        except (RedisError, OSError):
            await self._publish_once(messages)

    async def _publish_once(self, messages: Sequence[T]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for message in messages:
                pipe.publish(self._channel, self._codec.encode(message))
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

    async def _listen(self, receive: Receive[T], on_connect: Callable[[], None]) -> None:
        backoff = FIRST_BACKOFF_S
        while True:
            try:
                async with self._client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    on_connect()
                    backoff = FIRST_BACKOFF_S
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            await receive([self._codec.decode(message["data"])])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning(
                    "%s lost (%s); retrying in %.1fs", self._label, type(exc).__name__, backoff
                )
            except Exception:
                log.exception("%s failed; retrying", self._label)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
