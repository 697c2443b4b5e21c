"""What routing decided for a location and a matter. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from command_center.dispatch.calendar import WorkCalendar
from command_center.dispatch.ranking import Weights


class WaitReason(StrEnum):
    """Why a clue waits in the operator queue, for programs and translations (the
    `queue_reason` text beside it says the same in words, with the details)."""

    NO_SQUAD_SERVES = "no_squad_serves"  # no squad of the department serves the place
    ALL_OFF_DUTY = "all_off_duty"  # the squads serving it are all off duty
    NOT_ACCEPTED = "not_accepted"  # the squads on duty let the accept time run out
    ADDRESS_ONLY = "address_only"  # only an address was given: confirm the location
    RETURNED = "returned"  # the squad returned it (a dispute for the center)


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    """How squads are chosen: ranking weights, the city's time zone (rosters and
    holidays are local), and how old a device position may be before the base counts."""

    weights: Weights = field(default_factory=Weights)
    zone: str = "Asia/Shanghai"
    max_position_age_s: float = 600.0


DEFAULT_POLICY = DispatchPolicy()


@dataclass(frozen=True, slots=True)
class Route:
    """Jurisdiction, responsible department and the squad chosen (if any) for a clue."""

    jurisdiction_code: str | None
    jurisdiction_path: tuple[str, ...]
    matter_code: str | None
    department: str | None
    deadline_hours: int | None
    squad_code: str | None
    distance_m: float | None
    serving_squads: int
    on_duty_squads: int
    now: datetime
    duplicate_radius_m: int = 0
    duplicate_window_hours: int = 0
    accept_minutes: int = 10
    ranking: tuple[dict[str, Any], ...] = ()  # the chosen squad first, then the runners-up
    excluded: tuple[str, ...] = ()  # squads skipped because they already missed this clue
    joint_departments: tuple[str, ...] = ()  # departments that assist (联合执法)
    calendar: WorkCalendar | None = None  # set when the matter counts working hours

    def due(self, fraction: float = 1.0) -> datetime | None:
        """The deadline (fraction 1) or a point of the way to it, from `now`: on the
        clock, or in working hours when the matter says so."""
        if self.deadline_hours is None:
            return None
        hours = self.deadline_hours * fraction
        if self.calendar is not None:
            return self.calendar.add(self.now, hours)
        return self.now + timedelta(hours=hours)

    @property
    def queue_reason(self) -> str | None:
        """Why no squad was chosen, in words an operator understands; None if one was."""
        if self.squad_code is not None:
            return None
        if self.serving_squads == 0:
            return (
                f"no squad of {self.department} serves jurisdiction {self.jurisdiction_code} "
                "or any jurisdiction above it"
            )
        if self.on_duty_squads == 0:
            return (
                f"all {self.serving_squads} squads of {self.department} serving "
                f"{self.jurisdiction_code} are off duty"
            )
        return (
            f"the squads of {self.department} on duty for {self.jurisdiction_code} did not "
            f"accept in time ({', '.join(self.excluded)})"
        )

    @property
    def queue_reason_code(self) -> WaitReason | None:
        """`queue_reason` as a code; None if a squad was chosen."""
        if self.squad_code is not None:
            return None
        if self.serving_squads == 0:
            return WaitReason.NO_SQUAD_SERVES
        if self.on_duty_squads == 0:
            return WaitReason.ALL_OFF_DUTY
        return WaitReason.NOT_ACCEPTED

    def explanation(self) -> dict[str, Any]:
        """Why this squad: its scores and the next best, for the dispatch event."""
        return {"chosen": self.ranking[:1], "next": self.ranking[1:3]}


EMPTY_ROUTE = Route(
    jurisdiction_code=None,
    jurisdiction_path=(),
    matter_code=None,
    department=None,
    deadline_hours=None,
    squad_code=None,
    distance_m=None,
    serving_squads=0,
    on_duty_squads=0,
    now=datetime(1970, 1, 1, tzinfo=UTC),
)
