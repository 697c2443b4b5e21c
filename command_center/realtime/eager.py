"""Running a coroutine eagerly: at once, in the caller, until it first has to wait.

Sending one event to thousands of websockets through a task per connection costs a task
wake-up per connection, more than the send itself: uvicorn's websocket send writes to the
transport and returns without ever waiting. Started eagerly, such a send completes inside
the caller. A coroutine that does wait is finished by a task, with the same outcome as if
it had been awaited: the result of what it waits for, exceptions and cancellation go in.
(Python 3.12's `asyncio.eager_task_factory` does this for whole tasks; this project runs
on 3.11.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def start(coroutine: Coroutine[Any, Any, None]) -> asyncio.Future[None] | None:
    """Run `coroutine` now. None when it finished without waiting; else a task that
    finishes it. An exception it raises before waiting is raised here."""
    try:
        waiting_on = coroutine.send(None)
    except StopIteration:
        return None
    task = asyncio.ensure_future(_finish(coroutine, waiting_on))
    # Cancelled before its first step, the task never reaches the coroutine: close it.
    task.add_done_callback(lambda _: coroutine.close())
    return task


async def _finish(coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> None:
    while True:
        try:
            if waiting_on is None:  # a bare yield (asyncio.sleep(0)): give the loop a turn
                await asyncio.sleep(0)
                value = None
            else:
                # What a task does with a future its coroutine yields: take it over.
                waiting_on._asyncio_future_blocking = False
                value = await waiting_on
        except BaseException as exc:  # handed to the coroutine, as `await` would
            try:
                waiting_on = coroutine.throw(exc)
            except StopIteration:
                return
        else:
            try:
                waiting_on = coroutine.send(value)
            except StopIteration:
                return
