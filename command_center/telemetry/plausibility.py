"""Whether a reported position can be true: the rule that keeps a forged or broken
report out of dispatch and off the wall screen (issue 15, finding 1). No I/O.

A point is *suspect* when it lies outside the city's area plus a margin (the repository
says which points do), or when reaching it from the device's last believed point would
take a speed no car drives. Suspect points are stored, with their reason, but never
move the device: dispatch ranks by, and the consoles show, only believed points.

The jump is measured from the last believed point, so a run of forged points cannot walk
a device away step by step, and a device that really moved is believed again as soon as
the time since its last believed point makes the distance drivable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
# GPS noise and a phone's first fix may jump this far at any speed without being a lie.
JUMP_SLACK_M = 500.0


class Suspect(StrEnum):
    """Why a point is not believed (the `telemetry.suspect` column)."""

    OUTSIDE_AREA = "outside_area"
    TOO_FAST = "too_fast"


@dataclass(frozen=True, slots=True)
class Fix:
    """A point in time and space (WGS84)."""

    at: datetime
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Plausibility:
    """The limits of a believable report (settings POSITION_AREA_MARGIN_KM and
    POSITION_MAX_SPEED_KMH)."""

    area_margin_m: float
    max_speed_ms: float

    @classmethod
    def of(cls, *, area_margin_km: float, max_speed_kmh: float) -> Plausibility:
        return cls(area_margin_m=area_margin_km * 1000.0, max_speed_ms=max_speed_kmh / 3.6)


def distance_m(a: Fix, b: Fix) -> float:
    """Great-circle distance (haversine on the mean sphere; error < 0.5 %)."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def too_fast(previous: Fix, point: Fix, max_speed_ms: float) -> bool:
    """Whether going from `previous` to `point` needs more than `max_speed_ms`. A point
    within JUMP_SLACK_M is never too fast; a point before `previous` is judged by the
    absolute time between them."""
    distance = distance_m(previous, point)
    if distance <= JUMP_SLACK_M:
        return False
    seconds = abs((point.at - previous.at).total_seconds())
    return distance - JUMP_SLACK_M > max_speed_ms * seconds


def judge(
    points: Sequence[Fix],
    *,
    inside: Sequence[bool],
    believed: Fix | None,
    rule: Plausibility,
) -> list[Suspect | None]:
    """A verdict per point (in the given order, which should be by time): None when the
    point is believed. `inside[i]` says whether point i lies within the area plus margin;
    `believed` is the device's last believed point (None for a device never seen)."""
    if len(inside) != len(points):
        raise ValueError("one `inside` flag per point")
    verdicts: list[Suspect | None] = []
    anchor = believed
    for point, within in zip(points, inside, strict=True):
        if not within:
            verdicts.append(Suspect.OUTSIDE_AREA)
        elif anchor is not None and too_fast(anchor, point, rule.max_speed_ms):
            verdicts.append(Suspect.TOO_FAST)
        else:
            verdicts.append(None)
            if anchor is None or point.at >= anchor.at:
                anchor = point
    return verdicts
