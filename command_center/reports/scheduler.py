"""Scheduled reports: each week's report and each month's bulletin, generated once the
period has ended (plus REPORTS_AFTER_HOURS, so that late events are in) and stored.

Every server process runs the loop; an advisory lock lets one of them generate at a
time, and a report already stored for the period is never generated again, so each
period gets one scheduled report across processes and restarts. Only the latest ended
week and month are looked at: a server that was down for a month catches up on those.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from command_center.auth.model import SYSTEM
from command_center.auth.scope import Scope
from command_center.db.session import Database
from command_center.periodic import Periodic
from command_center.reports import repository, service
from command_center.reports.model import ReportKind
from command_center.stats.periods import Period, month_of, week_of

log = logging.getLogger(__name__)


def due_periods(now: datetime, zone: ZoneInfo, after: timedelta) -> list[tuple[ReportKind, Period]]:
    """The latest week and month that ended at least `after` before `now`."""
    moment = (now - after).astimezone(zone)
    last_week = week_of(moment.date() - timedelta(days=7), zone)
    last_month = month_of(moment.date().replace(day=1) - timedelta(days=1), zone)
    return [
        (kind, period)
        for kind, period in ((ReportKind.WEEKLY, last_week), (ReportKind.MONTHLY, last_month))
        if period.end + after <= now
    ]


async def generate_due(
    database: Database, *, now: datetime, zone: ZoneInfo, after: timedelta, issuer: str
) -> list[str]:
    """Generate and store the due reports not stored yet; returns their labels."""
    made: list[str] = []
    for kind, period in due_periods(now, zone, after):
        async with database.transaction() as session:
            if not await repository.take_scheduler_lock(session):
                return made
            if await repository.exists(session, kind=kind.value, label=period.label):
                continue
            rendered = await service.generate(
                session=session, kind=kind, period=period, now=now, scope=Scope(), issuer=issuer
            )
            await service.store(session=session, rendered=rendered, scope=Scope(), by=SYSTEM)
        log.info("generated the %s report %s", kind.value, period.label)
        made.append(f"{kind.value} {period.label}")
    return made


class ReportScheduler(Periodic):
    def __init__(
        self,
        *,
        database: Database,
        clock: Callable[[], datetime],
        zone: ZoneInfo,
        after: timedelta,
        issuer: str,
        poll_seconds: float,
    ) -> None:
        super().__init__(
            "reports",
            lambda: generate_due(database, now=clock(), zone=zone, after=after, issuer=issuer),
            poll_seconds=poll_seconds,
        )
