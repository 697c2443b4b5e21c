"""When each rung of the supervision ladder is due. No I/O.

| rung | when | goes to |
| --- | --- | --- |
| accept time-out | `accept_minutes` after dispatch | next best squad, operator told |
| reminder (提醒函) | 75 % of the time to the deadline | the squad |
| supervision order (督办单) | at the deadline (overdue) | department and center |
| escalation | 150 % of the time to the deadline | supervisors |
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class Rung(StrEnum):
    ACCEPT_TIMEOUT = "accept_timeout"
    REMINDER = "reminder"
    SUPERVISION = "supervision"
    ESCALATION = "escalation"


FRACTION = {Rung.REMINDER: 0.75, Rung.SUPERVISION: 1.0, Rung.ESCALATION: 1.5}
EVENT = {
    Rung.REMINDER: "clue.reminder",
    Rung.SUPERVISION: "clue.supervision_order",
    Rung.ESCALATION: "clue.escalated",
}
DOCUMENT = {
    Rung.REMINDER: ("reminder", "提醒函"),
    Rung.SUPERVISION: ("supervision_order", "督办单"),
    Rung.ESCALATION: ("escalation", "督办升级通知"),
}


def schedule(
    *, dispatched_at: datetime, deadline: datetime, accept_minutes: int
) -> dict[Rung, datetime]:
    """Due times of every rung for one dispatch."""
    span = deadline - dispatched_at
    due = {rung: dispatched_at + span * fraction for rung, fraction in FRACTION.items()}
    due[Rung.ACCEPT_TIMEOUT] = dispatched_at + timedelta(minutes=accept_minutes)
    return due
