"""`/metrics` output: this process's (or every worker's) instruments plus the database
figures, in the Prometheus text format written by prometheus-client itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.metrics import repository
from command_center.metrics.instruments import multiprocess_dir

DATABASE_GAUGES = {
    "overdue": ("command_center_overdue_clues", "Open clues past their deadline, not on hold."),
    "operator_queue": (
        "command_center_operator_queue_clues",
        "Clues waiting for an operator: received, returned or reopened without a squad.",
    ),
    "outbox": ("command_center_outbox_events", "Events committed but not relayed yet."),
    "timers_due": ("command_center_timers_due", "Ladder and accept timers due, not fired."),
    "webhook_backlog": (
        "command_center_webhook_backlog_events",
        "Events not yet delivered, summed over active webhooks.",
    ),
}


class _Figures(Collector):
    def __init__(self, values: dict[str, int]) -> None:
        self._values = values

    def collect(self) -> Iterator[Metric]:
        for key, (name, help_text) in DATABASE_GAUGES.items():
            family = GaugeMetricFamily(name, help_text)
            family.add_metric([], self._values[key])
            yield family


def _instruments() -> bytes:
    folder = multiprocess_dir()
    if folder is None:
        return generate_latest(REGISTRY)
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


async def exposition(*, session: AsyncSession, now: datetime) -> bytes:
    figures = CollectorRegistry()
    figures.register(_Figures(await repository.figures(session, now)))
    return _instruments() + generate_latest(figures)
