"""How the wall map aggregates clues: the viewport, the grid for a zoom, which clues are
on the map. No I/O.

Clues are grouped server-side into a grid whose cells are about `CLUSTER_PIXELS` wide
on screen at the requested Web-Mercator zoom, so that the browser draws at most a few
hundred clusters whatever the number of clues (100,000 open clues are one query).
When a viewport holds few enough clues, they are sent one by one instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from command_center.clues.model import State
from command_center.errors import InvalidInput
from gis.boundaries import LEVEL_RANK, LEVELS

CLUSTER_PIXELS = 64
TILE_PIXELS = 256
MAX_ZOOM = 22
DEFAULT_MAX_POINTS = 1500
MAX_POINTS_LIMIT = 5000

# On the map: every clue on which work is still owed, and those closed today.
OPEN_STATES = tuple(
    s.value for s in State if s not in (State.CLOSED, State.CANCELLED, State.DUPLICATE)
)
WORKING_STATES = (State.DISPATCHED.value, State.ACCEPTED.value, State.ON_SCENE.value)


@dataclass(frozen=True, slots=True)
class BBox:
    """A WGS84 viewport, west/south/east/north in degrees."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        """`west,south,east,north`; InvalidInput naming the problem. A viewport wider
        than the world (a zoomed-out wall) is clamped to it."""
        parts = text.split(",")
        if len(parts) != 4:
            raise InvalidInput("bbox must be west,south,east,north in degrees (WGS84)")
        try:
            west, south, east, north = (float(p) for p in parts)
        except ValueError:
            raise InvalidInput("bbox must hold four numbers") from None
        if not all(math.isfinite(v) for v in (west, south, east, north)):
            raise InvalidInput("bbox must hold finite numbers")
        west, east = max(west, -180.0), min(east, 180.0)
        south, north = max(south, -90.0), min(north, 90.0)
        if west >= east or south >= north:
            raise InvalidInput("bbox must have west < east and south < north")
        return cls(west, south, east, north)

    @property
    def mid_lat(self) -> float:
        return (self.south + self.north) / 2


def cell_size(zoom: int, mid_lat: float, pixels: int = CLUSTER_PIXELS) -> tuple[float, float]:
    """(dlon, dlat) in degrees of a grid cell about `pixels` wide and high on screen at
    `zoom` near latitude `mid_lat` (Web Mercator stretches latitude by 1/cos)."""
    if not 0 <= zoom <= MAX_ZOOM:
        raise InvalidInput(f"zoom must be 0..{MAX_ZOOM}")
    dlon = 360.0 / 2**zoom * pixels / TILE_PIXELS
    dlat = dlon * max(math.cos(math.radians(mid_lat)), 0.05)
    return dlon, dlat


def start_of_day(now: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight of `now`'s day in `zone` (clues closed since then stay on the map)."""
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


def level_rank(level: str) -> int:
    """The stored rank of a level (city 0 … grid 4); InvalidInput for another word."""
    try:
        return LEVEL_RANK[level]
    except KeyError:
        raise InvalidInput(f"level must be one of {', '.join(LEVELS)}") from None


def simplify_degrees(metres: float) -> float:
    """A simplification tolerance in metres as degrees (of latitude, ~111 km each)."""
    return max(metres, 0.0) / 111_320.0
