"""What marks a demo, and who the simulation is. No I/O.

A database is a demo when `command-center demo-mark` wrote its row (scripts/demo does).
The simulation (`command-center simulate`) sends `X-Demo-Simulation: 1` on every request;
a clue it sends is recorded with `simulated = true`, and every token it uses has a
subject starting with `demo-sim:`, so the record says which actor was simulated.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

SIMULATION_HEADER = "X-Demo-Simulation"
SIMULATED_SUBJECT_PREFIX = "demo-sim:"
BADGE = "演示"

# True while a request carrying the simulation header (on a demo database) is served:
# the clue intake reads it to record the clue as simulated (clues.repository.insert).
simulated_request: ContextVar[bool] = ContextVar("simulated_request", default=False)


@dataclass(frozen=True, slots=True)
class DemoMark:
    city: str
    marked_at: datetime


def simulated_subject(actor: str) -> str:
    """The token subject of a simulated actor, e.g. `demo-sim:squad:LD-01`."""
    return f"{SIMULATED_SUBJECT_PREFIX}{actor}"


def is_simulated_subject(subject: str | None) -> bool:
    return bool(subject) and str(subject).startswith(SIMULATED_SUBJECT_PREFIX)
