"""Eager sends: an event goes out inside the hub's delivery when the connection is idle,
and keeps its order behind a send that had to wait."""

from __future__ import annotations

import asyncio

import pytest

from command_center.auth.model import Principal, Role
from command_center.realtime import eager
from command_center.realtime.hub import Outgoing, Subscriber


async def test_a_coroutine_that_never_waits_finishes_inside_start() -> None:
    done: list[str] = []

    async def send() -> None:
        done.append("sent")

    assert eager.start(send()) is None
    assert done == ["sent"]


async def test_a_coroutine_that_waits_is_finished_by_a_task_with_what_it_waited_for() -> None:
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    seen: list[str] = []

    async def send() -> None:
        seen.append("started")
        seen.append(await gate)
        await asyncio.sleep(0)
        seen.append("finished")

    task = eager.start(send())
    assert task is not None and seen == ["started"]
    gate.set_result("opened")
    await task
    assert seen == ["started", "opened", "finished"]


async def test_errors_come_out_where_an_await_would_raise_them() -> None:
    async def refused() -> None:
        raise ConnectionError("client gone")

    with pytest.raises(ConnectionError):
        eager.start(refused())

    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def fails_later() -> None:
        await gate
        raise ConnectionError("client gone later")

    task = eager.start(fails_later())
    assert task is not None
    gate.set_result(None)
    with pytest.raises(ConnectionError, match="later"):
        await task


async def test_cancelling_the_task_cancels_the_coroutine() -> None:
    cleaned: list[bool] = []

    async def send() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            cleaned.append(True)

    task = eager.start(send())
    assert task is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]


def _event(event_id: int) -> Outgoing:
    return Outgoing(event_id, f"event {event_id}")


async def test_events_keep_their_order_behind_a_send_that_waits() -> None:
    wire: list[str] = []
    slow: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(outgoing: Outgoing) -> None:
        if outgoing.text == "event 1":
            await slow  # the first write has to wait (a full buffer, say)
        wire.append(outgoing.text)

    subscriber = Subscriber(Principal(role=Role.OPERATOR, subject="op"), asyncio.Queue(10))
    subscriber.go_live(send, last_sent=0)
    sender = asyncio.create_task(subscriber.run_sender())
    for n in (1, 2, 3):
        subscriber.offer(_event(n))
    await asyncio.sleep(0.01)
    assert wire == [], "nothing overtakes the send in flight"
    slow.set_result(None)
    for _ in range(100):
        await asyncio.sleep(0.001)
        if len(wire) == 3:
            break
    sender.cancel()
    assert wire == ["event 1", "event 2", "event 3"]
    subscriber.offer(_event(2))  # a repeat (e.g. the bus after a catch-up) is not sent
    assert wire == ["event 1", "event 2", "event 3"]


async def test_a_send_that_fails_marks_the_connection_gone() -> None:
    async def send(outgoing: Outgoing) -> None:
        raise RuntimeError('Cannot call "send" once a close message has been sent.')

    subscriber = Subscriber(Principal(role=Role.OPERATOR, subject="op"), asyncio.Queue(10))
    subscriber.go_live(send, last_sent=0)
    subscriber.offer(_event(1))
    assert subscriber.gone.is_set()
    await asyncio.wait_for(subscriber.run_sender(), timeout=1)  # the connection's end


async def test_before_going_live_events_wait_and_the_replayed_ones_are_skipped() -> None:
    wire: list[str] = []

    async def send(outgoing: Outgoing) -> None:
        wire.append(outgoing.text)

    subscriber = Subscriber(Principal(role=Role.OPERATOR, subject="op"), asyncio.Queue(10))
    for n in (4, 5, 6):
        subscriber.offer(_event(n))  # during the replay of the log
    subscriber.go_live(send, last_sent=5)  # the replay already sent up to event 5
    sender = asyncio.create_task(subscriber.run_sender())
    for _ in range(100):
        await asyncio.sleep(0.001)
        if wire:
            break
    sender.cancel()
    assert wire == ["event 6"]
