"""The websocket hub of one process: delivers each committed event once, in id order,
to every connection whose scope includes it.

Backpressure: each connection has a bounded queue; a connection that falls that far
behind is closed (code 1013) rather than slowing everyone else, and its client resumes
with `after=<last id it saw>`. A live connection with nothing queued gets each event
straight from the delivery (see Subscriber).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from command_center.auth.model import Principal, ScopeKey, audience
from command_center.db.session import Database
from command_center.realtime import eager, repository
from command_center.realtime.events import Event, record_only
from command_center.realtime.frames import text_frame

log = logging.getLogger(__name__)

CATCH_UP_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An event as every connection sends it: serialised once, not once per client, and
    its websocket frame built once too (empty where nobody needs it)."""

    id: int
    text: str
    frame: bytes = b""


Send = Callable[[Outgoing], Coroutine[Any, Any, None]]
GONE = Outgoing(0, "")  # put in a queue to tell its sender the connection is gone


@dataclass(eq=False)
class Subscriber:
    """One connection's place in the hub.

    Until `go_live`, events wait in `queue` (the connection is replaying the log). Live,
    an event is sent at once, inside the hub's delivery (eager.start: no task wake-up per
    connection), unless the connection is still busy with earlier events, which then keep
    their order through `queue` and `run_sender`. A send that raises marks the connection
    `gone` and ends `run_sender`; more than `queue`'s size waiting marks it `overflowed`.
    """

    principal: Principal
    queue: asyncio.Queue[Outgoing]
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    last_sent: int = 0
    _send: Send | None = None
    _busy: bool = False  # run_sender is sending
    _in_flight: asyncio.Future[None] | None = None  # an eager send that had to wait

    def offer(self, outgoing: Outgoing) -> None:
        """Send or queue an event this connection's principal may see (the hub chose it)."""
        if self.overflowed.is_set() or self.gone.is_set():
            return
        idle = not self._busy and self._in_flight is None and self.queue.empty()
        if self._send is not None and idle:
            self._send_now(outgoing)
            return
        try:
            self.queue.put_nowait(outgoing)
        except asyncio.QueueFull:
            self.overflowed.set()

    def go_live(self, send: Send, last_sent: int) -> None:
        """The replay is done: from now on events are sent with `send`."""
        self.last_sent = max(self.last_sent, last_sent)
        self._send = send

    async def run_sender(self) -> None:
        """Send what had to wait in the queue, in order, after any send still in flight;
        return once the connection is gone."""
        assert self._send is not None, "go_live first"
        while not self.gone.is_set():
            outgoing = await self.queue.get()
            if outgoing is GONE:
                return
            self._busy = True
            try:
                if self._in_flight is not None:
                    await asyncio.wait([self._in_flight])  # its failure sets `gone`
                if outgoing.id > self.last_sent:
                    await self._send(outgoing)
                    self.last_sent = outgoing.id
            finally:
                self._busy = False

    def _send_now(self, outgoing: Outgoing) -> None:
        if outgoing.id <= self.last_sent:
            return  # already sent by the replay
        assert self._send is not None
        try:
            waiting = eager.start(self._send(outgoing))
        except Exception:
            self._lost()  # the client went away; its connection ends
            return
        self.last_sent = outgoing.id
        if waiting is not None:
            self._in_flight = waiting
            waiting.add_done_callback(self._settled)

    def _settled(self, sent: asyncio.Future[None]) -> None:
        self._in_flight = None
        if sent.cancelled() or sent.exception() is not None:
            self._lost()

    def _lost(self) -> None:
        self.gone.set()
        with contextlib.suppress(asyncio.QueueFull):  # a full queue has overflowed anyway
            self.queue.put_nowait(GONE)  # wakes run_sender, which ends the connection


class Hub:
    def __init__(self, *, database: Database, poll_seconds: float, queue_size: int) -> None:
        self._database = database
        self._poll = poll_seconds
        self._queue_size = queue_size
        self._subscribers: set[Subscriber] = set()
        self._by_scope: dict[ScopeKey, set[Subscriber]] = {}  # who sees what, indexed
        self._last_id = 0
        self._lock = asyncio.Lock()
        self._nudge = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def last_id(self) -> int:
        return self._last_id

    @property
    def connections(self) -> int:
        return len(self._subscribers)

    @property
    def queued(self) -> int:
        """Events waiting in the connections' send queues."""
        return sum(s.queue.qsize() for s in self._subscribers)

    async def start(self) -> None:
        async with self._database.sessions() as session:
            self._last_id = await repository.last_id(session)
        self._task = asyncio.create_task(self._catch_up_loop(), name="hub-catch-up")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self, principal: Principal) -> Subscriber:
        subscriber = Subscriber(principal, asyncio.Queue(maxsize=self._queue_size))
        self._subscribers.add(subscriber)
        if (key := principal.scope_key) is not None:
            self._by_scope.setdefault(key, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        key = subscriber.principal.scope_key
        if key is not None and (same := self._by_scope.get(key)) is not None:
            same.discard(subscriber)
            if not same:
                del self._by_scope[key]

    def nudge(self) -> None:
        """Ask for a catch-up from the event log soon (e.g. after the bus reconnected)."""
        self._nudge.set()

    async def offer(self, events: list[Event]) -> None:
        """Deliver events from the bus; duplicates are dropped, a gap is filled from the log."""
        async with self._lock:
            for event in sorted(events, key=lambda e: e.id):
                if event.id <= self._last_id:
                    continue
                if event.id > self._last_id + 1:
                    await self._catch_up_locked()
                    if event.id <= self._last_id:
                        continue
                self._deliver(event)

    async def catch_up(self) -> None:
        async with self._lock:
            await self._catch_up_locked()

    async def _catch_up_locked(self) -> None:
        while True:
            async with self._database.sessions() as session:
                events = await repository.after(
                    session, after_id=self._last_id, limit=CATCH_UP_BATCH
                )
            for event in events:
                self._deliver(event)
            if len(events) < CATCH_UP_BATCH:
                return

    def _deliver(self, event: Event) -> None:
        """To the connections whose scope includes the event: looked up by scope key, not
        checked connection by connection (thousands of squad phones see one squad each)."""
        self._last_id = event.id
        if record_only(event.type):
            return
        keys = audience(jurisdiction_path=event.jurisdiction_path, squad_codes=event.squad_codes)
        if not any(key in self._by_scope for key in keys):
            return  # nobody here sees it: not even serialised (a catch-up of a busy log)
        text = event.public_json()
        outgoing = Outgoing(event.id, text, text_frame(text))
        for key in keys:
            for subscriber in self._by_scope.get(key, ()):
                subscriber.offer(outgoing)

    async def _catch_up_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudge.wait(), timeout=self._poll)
            self._nudge.clear()
            try:
                await self.catch_up()
            except Exception:
                log.warning("hub catch-up failed; retrying")
