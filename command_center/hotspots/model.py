"""Hot spots without I/O: folding counts into ranked cells, and H3 cells where no grid
is loaded (h3, Uber's hexagonal grid: pure computation).

A cell's count is its clues received in the period that are neither merged into
another (duplicates) nor cancelled; `reports` adds the repeated reports merged into them.
Cells are ranked by clues, then reports, then code. Hours are local hours 0–23, weekdays
ISO 1 (Monday) – 7 (Sunday), in TIMEZONE.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import h3


class Cells(StrEnum):
    AUTO = "auto"  # grid cells where a grid is loaded in the scope, else H3
    GRID = "grid"
    H3 = "h3"


@dataclass(frozen=True, slots=True)
class Count:
    """Clues of one cell, matter, local hour and weekday."""

    cell: str
    name: str | None
    matter_code: str
    matter_name: str
    hour: int
    weekday: int
    clues: int
    reports: int


@dataclass
class Spot:
    cell: str
    name: str | None
    clues: int = 0
    reports: int = 0
    rank: int = 0
    matters: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    by_weekday: list[int] = field(default_factory=lambda: [0] * 7)

    @property
    def peak_hour(self) -> int | None:
        return _peak(self.by_hour)

    @property
    def peak_weekday(self) -> int | None:
        peak = _peak(self.by_weekday)
        return None if peak is None else peak + 1

    def top_matters(self, n: int = 3) -> list[dict[str, Any]]:
        ordered = sorted(self.matters.items(), key=lambda item: (-item[1], item[0][0]))
        return [{"code": code, "name": name, "clues": count} for (code, name), count in ordered[:n]]


def _peak(values: list[int]) -> int | None:
    best = max(values)
    return values.index(best) if best else None


def fold(counts: Iterable[Count]) -> list[Spot]:
    """Cells ranked by clues (then reports, then code), each with its matters, hours and
    weekdays."""
    spots: dict[str, Spot] = {}
    for c in counts:
        spot = spots.setdefault(c.cell, Spot(c.cell, c.name))
        spot.clues += c.clues
        spot.reports += c.reports
        spot.matters[(c.matter_code, c.matter_name)] += c.clues
        spot.by_hour[c.hour] += c.clues
        spot.by_weekday[c.weekday - 1] += c.clues
    ranked = sorted(spots.values(), key=lambda s: (-s.clues, -s.reports, s.cell))
    for position, spot in enumerate(ranked, start=1):
        spot.rank = position
    return ranked


def h3_counts(points: Iterable[dict[str, Any]], resolution: int) -> list[Count]:
    """Counts per H3 cell of points (lon, lat in WGS84, matter, hour, weekday, reports)."""
    grouped: dict[tuple[str, str, str, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for p in points:
        cell = h3.latlng_to_cell(p["lat"], p["lon"], resolution)
        key = (cell, p["matter_code"], p["matter_name"], p["hour"], p["weekday"])
        grouped[key][0] += 1
        grouped[key][1] += p["reports"]
    return [
        Count(cell, None, matter, matter_name, hour, weekday, clues, reports)
        for (cell, matter, matter_name, hour, weekday), (clues, reports) in grouped.items()
    ]


def h3_polygon(cell: str) -> dict[str, Any]:
    """A cell's boundary as a GeoJSON Polygon (WGS84, longitude first, ring closed)."""
    ring = [[round(lng, 7), round(lat, 7)] for lat, lng in h3.cell_to_boundary(cell)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
