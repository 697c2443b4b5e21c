"""What routing decided for a location and a matter. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


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
        return (
            f"all {self.serving_squads} squads of {self.department} serving "
            f"{self.jurisdiction_code} are off duty"
        )


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
