"""Squad members and OsmAnd-protocol position reports. No I/O.

The OsmAnd protocol (what OsmAnd, Traccar Client and many GPS trackers send): `id`,
`lat`, `lon`, `timestamp` (Unix seconds, milliseconds or ISO-8601), `speed` (knots),
`bearing`/`heading` (degrees), `altitude` (m), `batt` (%), `accuracy`/`hdop` (m); we add
`crs` (`wgs84` default, `gcj02`).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from command_center.errors import InvalidInput
from command_center.tabular import Row, parse_unique
from gis.crs import CoordinateError, to_wgs84

KNOT = 0.514444  # m/s
COLUMNS = ("code", "name", "squad", "device_id", "phone")
TRACKER_ID_BYTES = 24  # 192 random bits: 32 URL-safe characters


def new_tracker_id() -> str:
    """A secret OsmAnd `id` for a member's phone: random, shown once, stored as a digest.
    The OsmAnd app and Traccar Client both let the user set the id they send."""
    return secrets.token_urlsafe(TRACKER_ID_BYTES)


def tracker_digest(tracker_id: str) -> str:
    """What is stored of a tracker id (a random secret needs no slow hash)."""
    return hashlib.sha256(tracker_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Member:
    code: str
    name: str
    squad_code: str
    device_id: str | None
    phone: str | None


def parse_members_csv(text: str) -> list[Member]:
    parsed = parse_unique(text, required=COLUMNS, build=_member, key=lambda m: m.code)
    devices = [m.device_id for _, m in parsed if m.device_id]
    if len(devices) != len(set(devices)):
        raise InvalidInput("a device_id is given to two members")
    return [member for _, member in parsed]


def _member(row: Row) -> Member:
    return Member(
        code=row.text("code"),
        name=row.text("name"),
        squad_code=row.text("squad"),
        device_id=row.text("device_id", required=False) or None,
        phone=row.text("phone", required=False) or None,
    )


@dataclass(frozen=True, slots=True)
class OsmAndReport:
    device_id: str
    at: datetime
    lon: float
    lat: float
    crs: str
    speed_ms: float | None
    heading: float | None
    altitude: float | None
    battery: float | None
    accuracy: float | None


def parse_osmand(params: Mapping[str, str], *, now: datetime) -> OsmAndReport:
    """One report from query or form fields; InvalidInput names the bad field."""
    device_id = (params.get("id") or params.get("deviceid") or "").strip()
    if not device_id:
        raise InvalidInput("id (the device id) is required")
    lat, lon = _required(params, "lat"), _required(params, "lon")
    if "location" in params and (lat is None or lon is None):
        lat_text, _, lon_text = params["location"].partition(",")
        lat, lon = _number(lat_text, "location"), _number(lon_text, "location")
    crs = (params.get("crs") or "wgs84").strip()
    try:
        lon, lat = to_wgs84(_present(lon, "lon"), _present(lat, "lat"), crs)
    except CoordinateError as exc:
        raise InvalidInput(str(exc)) from None
    speed = _optional(params, "speed")
    return OsmAndReport(
        device_id=device_id,
        at=_time(params.get("timestamp"), now),
        lon=lon,
        lat=lat,
        crs=crs.lower(),
        speed_ms=None if speed is None else speed * KNOT,
        heading=_optional(params, "bearing")
        if "bearing" in params
        else _optional(params, "heading"),
        altitude=_optional(params, "altitude"),
        battery=_optional(params, "batt"),
        accuracy=_optional(params, "accuracy")
        if "accuracy" in params
        else _optional(params, "hdop"),
    )


def _present(value: float | None, field: str) -> float:
    if value is None:
        raise InvalidInput(f"{field} is required")
    return value


def _required(params: Mapping[str, str], field: str) -> float | None:
    raw = params.get(field)
    return None if raw is None or raw.strip() == "" else _number(raw, field)


def _optional(params: Mapping[str, str], field: str) -> float | None:
    return _required(params, field)


def _number(raw: str, field: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{field} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(f"{field} is not a finite number")
    return value


def _time(raw: str | None, now: datetime) -> datetime:
    if raw is None or raw.strip() == "":
        return now
    text = raw.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput("timestamp must be Unix seconds, milliseconds or ISO-8601") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not math.isfinite(number) or number < 0:
        raise InvalidInput("timestamp must be Unix seconds, milliseconds or ISO-8601")
    seconds = number / 1000 if number > 1e11 else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput("timestamp is not a time this side of the year 9999") from None
