"""Tickets of the 12345 hotline or a partner platform, from a CSV or JSON file → Submissions.

Pure: text in, rows out. A problem with the file as a whole (unknown columns, not JSON,
no tickets) raises ImportRefused before anything is stored; a problem with one ticket
becomes that row's error, named by where it is (`line 7` in a CSV file, `ticket #3` in
a JSON list), and the other rows are unaffected.

Fields: `ticket_id`, `service_code`, `lat`, `long` (required); `description`, `crs`,
`address`, `phone`, `name`, `reported_at` (optional). A row's `crs` overrides the file's
default; positions are converted to WGS84 here. A `reported_at` without a UTC offset is
read in the zone the caller gives (the command center's TIMEZONE).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from command_center.clues.model import MAX_DESCRIPTION, Channel, Submission
from command_center.errors import ImportRefused, InvalidInput
from gis.crs import CRS, CoordinateError, parse_crs, to_wgs84

REQUIRED = ("ticket_id", "service_code", "lat", "long")
OPTIONAL = ("description", "crs", "address", "phone", "name", "reported_at")
SUFFIXES = (".csv", ".json")
DEFAULT_SOURCE = "12345"

MAX_TICKET_ID = 100
MAX_SOURCE = 100
MAX_SERVICE_CODE = 64
MAX_ADDRESS = 500
MAX_NAME = 200
MAX_REPORTED_AT = 64
# Hotline exports usually mask the middle of a number (138****5678); that is kept as is.
PHONE = re.compile(r"^\+?[0-9 ()*-]{3,32}$")
# Control characters other than tab and line breaks; PostgreSQL refuses NUL outright.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One valid ticket, its position already in WGS84."""

    ticket_id: str
    service_code: str
    lon: float
    lat: float
    crs: CRS
    description: str = ""
    address: str | None = None
    phone: str | None = None
    name: str | None = None
    reported_at: datetime | None = None

    def submission(self, *, source: str) -> Submission:
        """The clue this ticket asks for; (source, ticket_id) makes re-imports idempotent."""
        attributes = {"reported_at": self.reported_at.isoformat()} if self.reported_at else {}
        return Submission(
            channel=Channel.HOTLINE,
            matter_code=self.service_code,
            lon=self.lon,
            lat=self.lat,
            submitted_crs=self.crs.value,
            description=self.description,
            reporter_phone=self.phone,
            reporter_name=self.name,
            address=self.address,
            source=source,
            external_id=self.ticket_id,
            attributes=attributes,
        )


@dataclass(frozen=True, slots=True)
class Row:
    """A ticket of the file, or why it cannot be imported; `where` names it for people."""

    where: str
    ticket: TicketRow | None = None
    error: str | None = None


def check_source(name: str) -> str:
    """The source name, stripped; InvalidInput if empty, too long or with control characters."""
    value = name.strip()
    if not value or len(value) > MAX_SOURCE or CONTROL.search(value):
        raise InvalidInput(f"the source must be 1 to {MAX_SOURCE} printable characters")
    return value


def parse(text: str, *, suffix: str, crs: CRS | str, zone: tzinfo) -> list[Row]:
    """The rows of a `.csv` or `.json` file (by `suffix`); ImportRefused for a bad file."""
    parsers: dict[str, Callable[..., list[Row]]] = {".csv": parse_csv, ".json": parse_json}
    chosen = parsers.get(suffix.lower())
    if chosen is None:
        raise ImportRefused(f"expected a .csv or .json file, not {suffix or 'no suffix'!r}")
    return chosen(text, crs=crs, zone=zone)


def parse_csv(text: str, *, crs: CRS | str = CRS.WGS84, zone: tzinfo) -> list[Row]:
    """Rows of a CSV file (UTF-8, BOM tolerated) with a header line; blank lines are skipped.

    A row is named by the line it starts on. Trailing empty cells may be left out; more
    values than columns make the row bad (its values may have shifted). ImportRefused for
    missing, unknown or repeated columns, for unreadable CSV, and for a file without rows.
    """
    default_crs = _default_crs(crs)
    records = _csv_records(text.removeprefix("\ufeff"))
    header_line, header = next(records, (1, []))
    columns = [name.strip() for name in header]
    _check_columns(columns, what="columns")
    rows = []
    for line, values in records:
        where = f"line {line}"
        if len(values) > len(columns):
            error = (
                f"has {len(values)} values but the header has {len(columns)} columns"
                " (is a comma in a text not quoted?)"
            )
            rows.append(Row(where, error=error))
            continue
        rows.append(_row(where, dict(zip(columns, values, strict=False)), default_crs, zone))
    if not rows:
        raise ImportRefused(f"the file has no tickets after the header on line {header_line}")
    return rows


def parse_json(text: str, *, crs: CRS | str = CRS.WGS84, zone: tzinfo) -> list[Row]:
    """Rows of a JSON list of ticket objects, or of `{"tickets": [...]}`.

    A row is named by its 1-based place in the list (`ticket #3`). ImportRefused for
    invalid JSON, another shape, keys outside the known fields, or an empty list.
    """
    default_crs = _default_crs(crs)
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ImportRefused(
            f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if isinstance(data, dict) and "tickets" in data:  # other keys of an envelope are ignored
        data = data["tickets"]
    if not isinstance(data, list):
        raise ImportRefused('expected a list of tickets, or {"tickets": [...]}')
    if not data:
        raise ImportRefused("the file has no tickets")
    keys = {key for item in data if isinstance(item, dict) for key in item}
    _check_columns(sorted(keys), what="fields", required=())
    rows = []
    for number, item in enumerate(data, start=1):
        where = f"ticket #{number}"
        if not isinstance(item, dict):
            rows.append(Row(where, error="is not an object"))
            continue
        try:
            values = {key: _json_text(key, value) for key, value in item.items()}
        except InvalidInput as exc:
            rows.append(Row(where, error=exc.message))
            continue
        rows.append(_row(where, values, default_crs, zone))
    return rows


# --- one row --------------------------------------------------------------------------


def _row(where: str, values: Mapping[str, str], default_crs: CRS, zone: tzinfo) -> Row:
    try:
        return Row(where, ticket=_ticket(values, default_crs, zone))
    except InvalidInput as exc:
        return Row(where, error=exc.message)


def _ticket(values: Mapping[str, str], default_crs: CRS, zone: tzinfo) -> TicketRow:
    """Validate one ticket; InvalidInput names the first bad field (never its value when
    it may be personal)."""
    ticket_id = _text(values, "ticket_id", MAX_TICKET_ID, required=True)
    service_code = _text(values, "service_code", MAX_SERVICE_CODE, required=True)
    crs_name = _text(values, "crs", 16)
    try:
        crs = parse_crs(crs_name) if crs_name else default_crs
        lat, lon = _number(values, "lat"), _number(values, "long")
        lon, lat = to_wgs84(lon, lat, crs)
    except CoordinateError as exc:
        raise InvalidInput(str(exc)) from None
    phone = _text(values, "phone", 40) or None
    if phone and not PHONE.match(phone):
        raise InvalidInput("phone may hold only digits, spaces, +, -, (, ) and * (a mask)")
    return TicketRow(
        ticket_id=ticket_id,
        service_code=service_code,
        lon=lon,
        lat=lat,
        crs=crs,
        description=_text(values, "description", MAX_DESCRIPTION, multiline=True),
        address=_text(values, "address", MAX_ADDRESS) or None,
        phone=phone,
        name=_text(values, "name", MAX_NAME) or None,
        reported_at=_reported_at(values, zone),
    )


def _text(
    values: Mapping[str, str],
    field: str,
    limit: int,
    *,
    required: bool = False,
    multiline: bool = False,
) -> str:
    value = (values.get(field) or "").strip()
    if required and not value:
        raise InvalidInput(f"{field} is {'empty' if field in values else 'missing'}")
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters")
    if CONTROL.search(value) or (not multiline and ("\n" in value or "\r" in value)):
        raise InvalidInput(f"{field} holds control characters")
    return value


def _number(values: Mapping[str, str], field: str) -> float:
    text = _text(values, field, 32, required=True)
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{field} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(f"{field} is not a finite number")
    return value


def _reported_at(values: Mapping[str, str], zone: tzinfo) -> datetime | None:
    text = _text(values, "reported_at", MAX_REPORTED_AT)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"reported_at {text!r} is not an ISO-8601 time (e.g. 2026-11-23T08:15:00+08:00)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


# --- file shapes ----------------------------------------------------------------------


def _default_crs(crs: CRS | str) -> CRS:
    try:
        return parse_crs(crs)
    except CoordinateError as exc:
        raise ImportRefused(str(exc)) from None


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, values) of each non-blank CSV record; ImportRefused if it cannot be read."""
    reader = csv.reader(io.StringIO(text))
    next_line = 1
    try:
        for values in reader:
            line, next_line = next_line, reader.line_num + 1
            if any(value.strip() for value in values):
                yield line, values
    except csv.Error as exc:
        raise ImportRefused(f"line {next_line}: not readable as CSV: {exc}") from None


def _check_columns(names: Sequence[str], *, what: str, required: Sequence[str] = REQUIRED) -> None:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ImportRefused(f"repeated {what}: {', '.join(repeated)}")
    missing = [name for name in required if name not in names]
    if missing:
        raise ImportRefused(f"missing {what}: {', '.join(missing)} (found: {','.join(names)})")
    unknown = [name for name in names if name not in REQUIRED and name not in OPTIONAL]
    if unknown:
        known = ", ".join(REQUIRED + OPTIONAL)
        raise ImportRefused(f"unknown {what}: {', '.join(unknown)} (known: {known})")


def _json_text(key: str, value: Any) -> str:
    """A JSON value as the text a CSV cell would hold; null is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidInput(f"{key} must be a string or a number")
