"""Enforcement squads (执法队): who they are, where they are based, where they serve."""

from __future__ import annotations

from dataclasses import dataclass

from command_center.tabular import Row, parse_bool, parse_unique
from gis.crs import CoordinateError, check_lon_lat

COLUMNS = ("code", "name", "department", "jurisdictions", "lon", "lat", "on_duty")
OPTIONAL_COLUMNS = ("domains",)


@dataclass(frozen=True, slots=True)
class Squad:
    code: str
    name: str
    department: str
    jurisdictions: tuple[str, ...]
    lon: float
    lat: float
    on_duty: bool
    domains: tuple[str, ...] = ()  # matter domains it handles; empty means all


@dataclass(frozen=True, slots=True)
class SquadLine:
    """A parsed squad and the line it came from, so later checks can name the line."""

    line: int
    squad: Squad


def parse_squads_csv(text: str) -> list[SquadLine]:
    """All squads of a file (base position in WGS84), or ImportRefused listing bad lines."""
    parsed = parse_unique(
        text, required=COLUMNS, optional=OPTIONAL_COLUMNS, build=_squad, key=lambda s: s.code
    )
    return [SquadLine(line, squad) for line, squad in parsed]


def _squad(row: Row) -> Squad:
    codes = tuple(c.strip() for c in row.text("jurisdictions").split(";") if c.strip())
    if not codes:
        raise ValueError("jurisdictions is empty")
    lon, lat = _number(row, "lon"), _number(row, "lat")
    try:
        check_lon_lat(lon, lat)
    except CoordinateError as exc:
        raise ValueError(str(exc)) from None
    return Squad(
        code=row.text("code"),
        name=row.text("name"),
        department=row.text("department"),
        jurisdictions=codes,
        lon=lon,
        lat=lat,
        on_duty=parse_bool(row.text("on_duty"), "on_duty"),
        domains=tuple(
            d.strip() for d in row.text("domains", required=False).split(";") if d.strip()
        ),
    )


def _number(row: Row, column: str) -> float:
    raw = row.text(column)
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{column} {raw!r} is not a number") from None
