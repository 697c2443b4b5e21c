"""Devices and their reported positions; what a position message looks like. No I/O.

Positions are WGS84 once they are inside; `crs` on the way in may say gcj02. Telemetry is
frequent and not legal evidence: it is never written to the event log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from command_center.errors import InvalidInput
from command_center.realtime.events import iso_utc

MAX_FUTURE = timedelta(minutes=5)  # clock skew a device may have
MAX_AGE = timedelta(days=7)  # how late buffered points may still be uploaded
MAX_BATCH = 100

# What each measurement may be (the columns are `real`: values are kept to 0.001, which
# also turns a subnormal number such as 1e-300 into 0 instead of an overflow).
MEASUREMENTS: dict[str, tuple[float, float]] = {
    "heading": (0.0, 360.0),  # degrees; 360 is north again
    "speed": (0.0, 200.0),  # m/s
    "altitude": (-500.0, 10_000.0),  # m
    "battery": (0.0, 100.0),  # %
    "accuracy": (0.0, 100_000.0),  # m
}


class DeviceKind(StrEnum):
    PHONE = "phone"
    BODY_CAMERA = "body_camera"
    DRONE = "drone"
    FIXED_CAMERA = "fixed_camera"  # pulled over RTSP (command_center.video.cameras)


# What a device that was never registered is taken to be when it first reports.
DEFAULT_KIND = DeviceKind.BODY_CAMERA


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    kind: DeviceKind
    squad_code: str | None
    label: str


@dataclass(frozen=True, slots=True)
class Report:
    """One point as a device reported it, already converted to WGS84."""

    at: datetime
    lon: float
    lat: float
    submitted_crs: str
    heading: float | None = None
    speed: float | None = None
    altitude: float | None = None
    battery: float | None = None
    accuracy: float | None = None

    def __post_init__(self) -> None:
        """InvalidInput names a measurement outside MEASUREMENTS; the rest are rounded."""
        for name, (low, high) in MEASUREMENTS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if not (math.isfinite(value) and low <= value <= high):
                raise InvalidInput(f"{name} must be between {low:g} and {high:g}")
            kept = round(value, 3)
            object.__setattr__(self, name, kept % 360 if name == "heading" else kept)


@dataclass(frozen=True, slots=True)
class Position:
    """A device's position as stored, with the jurisdiction it lies in and who sees it."""

    device: Device
    at: datetime
    lon: float
    lat: float
    heading: float | None
    speed: float | None
    altitude: float | None
    battery: float | None
    accuracy: float | None
    jurisdiction_code: str | None
    scope_path: tuple[str, ...]

    def squad_codes(self) -> tuple[str, ...]:
        return (self.device.squad_code,) if self.device.squad_code else ()


def check_time(at: datetime, now: datetime) -> None:
    """InvalidInput for a time too far in the future or the past."""
    if at.tzinfo is None:
        raise InvalidInput("`at` must carry a time zone (e.g. 2026-11-23T08:00:00Z)")
    if at > now + MAX_FUTURE:
        raise InvalidInput("`at` is in the future; is the device's clock set?")
    if at < now - MAX_AGE:
        raise InvalidInput(f"`at` is more than {MAX_AGE.days} days old")


def device_body(device: Device) -> dict[str, Any]:
    return {
        "id": device.id,
        "kind": device.kind.value,
        "squad_code": device.squad_code,
        "label": device.label,
    }


def position_body(position: Position, stream: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON of a `position` message: the device, where and how it is, and its live
    stream if it has one (`stream.whep` is where to watch it)."""
    return {
        "type": "position",
        "device": device_body(position.device),
        "at": iso_utc(position.at),
        "location": {"lon": round(position.lon, 7), "lat": round(position.lat, 7), "crs": "wgs84"},
        "heading": position.heading,
        "speed": position.speed,
        "altitude": position.altitude,
        "battery": position.battery,
        "accuracy": position.accuracy,
        "jurisdiction_code": position.jurisdiction_code,
        "stream": stream,
    }
