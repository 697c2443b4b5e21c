"""Choosing among eligible squads: a weighted score, explained. No I/O.

score = distance_km × distance_weight + open clues × workload_weight
        + (domain_weight if the squad lists domains and not this matter's)

With the default weights (1 per km, 2 per open clue, 5 for a domain mismatch) distance
decides between squads of equal workload, and a squad two clues busier than another must
be more than 4 km nearer to win. Ties go to the squad code, so the choice is repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Weights:
    distance_per_km: float = 1.0
    per_open_clue: float = 2.0
    domain_mismatch: float = 5.0


@dataclass(frozen=True, slots=True)
class Candidate:
    squad_code: str
    eligible: bool  # on shift (or on duty when it has no roster)
    distance_m: float
    open_clues: int
    handles_domain: bool  # True when the squad lists no domains at all
    live_position: bool  # distance from a recent device position, not the base

    def score(self, weights: Weights) -> float:
        return (
            self.distance_m / 1000 * weights.distance_per_km
            + self.open_clues * weights.per_open_clue
            + (0 if self.handles_domain else weights.domain_mismatch)
        )

    def explain(self, weights: Weights) -> dict[str, Any]:
        return {
            "squad_code": self.squad_code,
            "score": round(self.score(weights), 3),
            "distance_m": round(self.distance_m, 1),
            "open_clues": self.open_clues,
            "handles_domain": self.handles_domain,
            "position": "live" if self.live_position else "base",
        }


def rank(
    candidates: list[Candidate], weights: Weights, *, exclude: frozenset[str] = frozenset()
) -> list[Candidate]:
    """Eligible candidates not in `exclude`, best first."""
    chosen = [c for c in candidates if c.eligible and c.squad_code not in exclude]
    return sorted(chosen, key=lambda c: (c.score(weights), c.squad_code))
