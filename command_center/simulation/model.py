"""The simulation's rules: pacing, choices and movement. No I/O.

Every delay is a range in seconds multiplied by `pace` (1 = as a demo should feel; a
test runs at 0.02), so the story is the same at any speed. Movement is at street speed
in real time whatever the pace: positions are reports a server may check for plausibility.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class Pacing:
    """How the simulated city behaves. Ranges are (low, high) seconds before `pace`."""

    tips_per_minute: float = 3.0  # residents and grid workers together
    opening_tips: int = 3  # sent at once on start, so that the wall fills at once
    grid_worker_share: float = 0.3  # of the tips, sent by grid workers (token, no limit)
    photo_share: float = 0.6  # of residents' tips, with a photo
    accept_after: tuple[float, float] = (4.0, 15.0)
    work_on_scene: tuple[float, float] = (15.0, 45.0)
    verify_after: tuple[float, float] = (8.0, 25.0)
    close_after: tuple[float, float] = (5.0, 15.0)
    rate_after: tuple[float, float] = (5.0, 20.0)
    dispatch_after: tuple[float, float] = (10.0, 30.0)  # the desk colleague, queued tips
    return_share: float = 0.06  # squads that find it is not theirs
    extension_share: float = 0.1  # squads that ask for more time on scene
    low_rating_share: float = 0.05  # residents unhappy (1-2 stars reopen the clue)
    speed_kmh: float = 35.0  # street speed of a squad's car
    position_every: float = 4.0  # seconds between OsmAnd reports while driving
    idle_position_every: float = 60.0  # … and while waiting
    tip_radius_m: float = 1800.0  # tips fall this close to a district seat or a squad base
    pace: float = 1.0

    def __post_init__(self) -> None:
        if self.tips_per_minute <= 0 or self.pace <= 0 or self.speed_kmh <= 0:
            raise ValueError("tips_per_minute, pace and speed_kmh must be positive")
        for name in (
            "grid_worker_share",
            "photo_share",
            "return_share",
            "extension_share",
            "low_rating_share",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")

    def wait(self, span: tuple[float, float], rng: random.Random) -> float:
        """Seconds to wait for a step: uniform in `span`, times `pace`."""
        return rng.uniform(*span) * self.pace

    def next_tip_in(self, rng: random.Random) -> float:
        """Seconds to the next tip: tips arrive as a Poisson process at the set rate
        (real time: the rate is what the wall shows)."""
        return rng.expovariate(self.tips_per_minute / 60.0)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lon, lat) points, metres."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def offset(point: tuple[float, float], east_m: float, north_m: float) -> tuple[float, float]:
    """`point` moved by metres east and north (small distances)."""
    lon, lat = point
    dlat = north_m / EARTH_RADIUS_M
    dlon = east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat)))
    return lon + math.degrees(dlon), lat + math.degrees(dlat)


def route(start: tuple[float, float], end: tuple[float, float]) -> list[tuple[float, float]]:
    """A street-like path: first along one axis, then the other (Manhattan), the way a
    car follows a city grid rather than flying straight. Corners included, ends too."""
    corner = (end[0], start[1])
    return [start, corner, end] if corner not in (start, end) else [start, end]


def drive(
    path: list[tuple[float, float]], speed_kmh: float, every_s: float
) -> list[tuple[float, float]]:
    """Points along `path` a car at `speed_kmh` passes every `every_s` seconds, the last
    one at the end of the path."""
    step = speed_kmh / 3.6 * every_s
    legs = list(itertools.pairwise(path))
    lengths = [distance_m(a, b) for a, b in legs]
    points: list[tuple[float, float]] = []
    travelled, leg, before = step, 0, 0.0  # `before`: length of the legs already passed
    while leg < len(legs):
        if travelled >= before + lengths[leg]:
            before += lengths[leg]
            leg += 1
            continue
        (a, b), f = legs[leg], (travelled - before) / lengths[leg]
        points.append((a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f))
        travelled += step
    points.append(path[-1])
    return points


def rating(pacing: Pacing, rng: random.Random) -> int:
    """A resident's stars: mostly 4-5, now and then 1-2 (which reopens the clue)."""
    if rng.random() < pacing.low_rating_share:
        return rng.choice((1, 2))
    return rng.choice((4, 5, 5))
