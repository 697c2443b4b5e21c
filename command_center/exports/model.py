"""What an export asks for and how its rows are written. No I/O.

Positions are WGS84 (EPSG:4326, longitude first); times ISO-8601 UTC. No personal data:
reporters' names, phones and e-mail addresses are never exported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from command_center.spreadsheets import safe_cell

COLUMNS = (
    "id",
    "service_request_id",
    "state",
    "channel",
    "matter_code",
    "matter_name",
    "department",
    "jurisdiction_code",
    "jurisdiction_name",
    "squad_code",
    "lon",
    "lat",
    "received_at",
    "dispatched_at",
    "deadline",
    "closed_at",
    "overdue",
    "report_count",
    "rating",
    "duplicate_of",
    "description",
)
MAX_ROWS = 100_000
DEFAULT_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class Filters:
    states: tuple[str, ...] = ()
    matters: tuple[str, ...] = ()
    department: str | None = None
    jurisdiction: str | None = None
    received_from: date | None = None
    received_to: date | None = None  # included
    bbox: tuple[float, float, float, float] | None = None
    limit: int = DEFAULT_ROWS


def csv_header() -> str:
    """The first line, after a BOM so that spreadsheet programs read UTF-8."""
    return "\ufeff" + _line(COLUMNS)


def csv_line(row: dict[str, Any]) -> str:
    return _line(_text(row[c]) for c in COLUMNS)


def _line(values: Iterable[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(list(values))
    return out.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.7f}"
    if isinstance(value, str):
        return safe_cell(value)  # a description such as =HYPERLINK(...) stays text
    return str(value)


def feature(row: dict[str, Any]) -> str:
    """One GeoJSON Feature (a Point in WGS84) as JSON text."""
    properties = {c: row[c] for c in COLUMNS if c not in ("lon", "lat")}
    return json.dumps(
        {
            "type": "Feature",
            "id": row["id"],
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": properties,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
