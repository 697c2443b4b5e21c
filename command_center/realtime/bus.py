"""Buses carry committed events from the relay to every process's hub.

A bus is only a fast path: a message lost by the bus is found again by the hub's
catch-up from the event log, so no bus needs to be reliable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from command_center.channel import Codec, LocalChannel, RedisChannel
from command_center.realtime.events import Event
from command_center.redisconn import RedisTarget

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


EVENTS: Codec[Event] = Codec(encode=Event.to_wire, decode=Event.from_wire)


class LocalBus(LocalChannel[Event]):
    """For one process: publish hands events straight to the local hub."""


class RedisBus(RedisChannel[Event]):
    """Redis pub/sub on one channel (command_center/channel.py); subscribers drop
    duplicates by id and fill gaps from the event log."""

    def __init__(self, target: RedisTarget, channel: str) -> None:
        super().__init__(target, channel, EVENTS, label="redis bus")
