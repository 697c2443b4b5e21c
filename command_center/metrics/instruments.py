"""The process's instruments (prometheus-client), and how several processes add up.

With one server process everything lives in this process's registry. With
`serve --workers N` the command sets PROMETHEUS_MULTIPROC_DIR before the workers start;
prometheus-client then keeps each process's values in files there and `/metrics`, in
whichever worker answers, adds them up: counters and histograms are summed over every
process that ever ran, the websocket gauges over the live ones (`livesum`; a worker that
stops cleanly removes its own). Figures that are facts of the database (overdue clues,
queue lengths) are read from it at each scrape, so they are the same in every process.

The counters move where an event is relayed into the log — exactly one process does
that for each event — so every event is counted once however many processes run.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram

from command_center.realtime.events import Event

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

EVENTS = Counter(
    "command_center_events",
    "Events written to the record, by type.",
    ["type"],
)
CLUES_RECEIVED = Counter(
    "command_center_clues_received",
    "Clues registered (intake), by channel; its rate is the intake rate.",
    ["channel"],
)
DISPATCH_LATENCY = Histogram(
    "command_center_dispatch_latency_seconds",
    "From the start of the transaction that dispatched a clue (intake or an operator's "
    "dispatch) to its clue.dispatched event entering the log, just before it is published.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
WEBSOCKETS = Gauge(
    "command_center_websocket_connections",
    "Open websocket connections: events (/ws) and telemetry watchers (/ws/telemetry).",
    ["kind"],
    multiprocess_mode="livesum",
)
WEBSOCKET_BACKLOG = Gauge(
    "command_center_websocket_queued_events",
    "Events waiting in the send queues of this process's /ws connections.",
    multiprocess_mode="livesum",
)
GC_PAUSES = Histogram(
    "command_center_gc_pause_seconds",
    "Runs of Python's garbage collector, by generation: the event loop stands still while "
    "one runs (see gcpolicy.py).",
    ["generation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
RATE_LIMIT_FALLBACK = Gauge(
    "command_center_rate_limit_fallback",
    "1 while a process counts rate limits by itself because Redis cannot be reached "
    "(each process then allows the full limit), else 0.",
    multiprocess_mode="livemax",
)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


def relayed(events: list[Event], now: datetime | None = None) -> None:
    """Count events the relay just moved into the log (before it publishes them)."""
    moment = now or datetime.now(UTC)
    for event in events:
        EVENTS.labels(event.type).inc()
        if event.type == "clue.received" and event.data.get("from") is None:
            CLUES_RECEIVED.labels(str(event.data.get("channel") or "unknown")).inc()
        elif event.type == "clue.dispatched":
            DISPATCH_LATENCY.observe(max(0.0, (moment - event.at).total_seconds()))


def rate_limits_alone(falling_back: bool) -> None:
    RATE_LIMIT_FALLBACK.set(1 if falling_back else 0)


def connections(*, events: int, telemetry: int, queued: int) -> None:
    WEBSOCKETS.labels("events").set(events)
    WEBSOCKETS.labels("telemetry").set(telemetry)
    WEBSOCKET_BACKLOG.set(queued)


def gc_paused(pauses: list[tuple[int, float]]) -> None:
    for generation, seconds in pauses:
        GC_PAUSES.labels(str(generation)).observe(seconds)


def process_stopped() -> None:
    """Forget this process's live gauges (multi-process mode only)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
