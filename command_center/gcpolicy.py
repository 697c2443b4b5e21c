"""Garbage collection for a long-running server: keep full collections short.

CPython's full collection (generation 2) walks every object the collector tracks, and
while it runs the worker's event loop stands still: every request in flight and every
websocket send waits. A started worker tracks about 190,000 objects (modules, classes,
functions, the app, its routes and SQL) that live as long as the process; walking them
took 95–165 ms on the 2-core bench machine, two or three times in a 20-second burst of
tips — the worst tails of tip→squad latency.

`settle()` collects once and then freezes what is left (`gc.freeze`): frozen objects sit
in a permanent generation that collections skip. The app settles at the end of start-up
and once more after a warm-up (what the first requests build lazily: compiled SQL,
validators, prepared statements), so full collections walk only what came later (about
20 ms measured). Nothing that reference counting frees is kept; only a reference cycle
among objects alive at a freeze is never collected — a one-off, bounded by what existed
then.

`PauseMeter` times every collection from `gc.callbacks` into a bounded buffer, without
locks (a callback can run inside any allocation, also inside prometheus-client's own);
`drain()` hands the pauses to the metrics.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from typing import Any


def settle() -> int:
    """Collect, then freeze every surviving object; returns how many are frozen now."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class PauseMeter:
    """Durations of the collector's runs, by generation, since the last `drain`."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._pauses: deque[tuple[int, float]] = deque(maxlen=capacity)
        self._started = 0.0

    def install(self) -> None:
        if self._on_collect not in gc.callbacks:
            gc.callbacks.append(self._on_collect)

    def uninstall(self) -> None:
        if self._on_collect in gc.callbacks:
            gc.callbacks.remove(self._on_collect)

    def drain(self) -> list[tuple[int, float]]:
        """(generation, seconds) of each collection since the previous drain."""
        drained = []
        while self._pauses:
            drained.append(self._pauses.popleft())
        return drained

    def _on_collect(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self._pauses.append((int(info["generation"]), time.perf_counter() - self._started))
