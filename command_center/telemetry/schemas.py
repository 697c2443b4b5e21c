"""Request and response shapes of devices and telemetry. Positions: WGS84 unless `crs`
says gcj02 (what Chinese map SDKs on phones return); responses are always WGS84."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from command_center.errors import InvalidInput
from command_center.telemetry.model import (
    MAX_BATCH,
    Device,
    DeviceKind,
    Position,
    Report,
    check_time,
)
from gis.crs import CoordinateError, to_wgs84


class TelemetryIn(BaseModel):
    """One position report of a body camera, drone or phone."""

    model_config = ConfigDict(extra="forbid")

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    crs: Literal["wgs84", "gcj02"] = Field(default="wgs84", description="System of lon/lat")
    at: datetime | None = Field(default=None, description="When it was measured; default now")
    heading: float | None = Field(
        default=None, ge=0, lt=360, allow_inf_nan=False, description="Degrees from north"
    )
    speed: float | None = Field(default=None, ge=0, le=200, allow_inf_nan=False, description="m/s")
    altitude: float | None = Field(
        default=None, ge=-500, le=10000, allow_inf_nan=False, description="Metres above sea level"
    )
    battery: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False, description="%")
    accuracy: float | None = Field(
        default=None, ge=0, le=100000, allow_inf_nan=False, description="Metres"
    )

    def report(self, now: datetime) -> Report:
        """The report in WGS84; InvalidInput for an impossible time or position."""
        at = self.at or now
        check_time(at, now)
        try:
            lon, lat = to_wgs84(self.lon, self.lat, self.crs)
        except CoordinateError as exc:
            raise InvalidInput(str(exc)) from None
        return Report(
            at=at,
            lon=lon,
            lat=lat,
            submitted_crs=self.crs,
            heading=self.heading,
            speed=self.speed,
            altitude=self.altitude,
            battery=self.battery,
            accuracy=self.accuracy,
        )


TelemetryBatch = Annotated[list[TelemetryIn], Field(min_length=1, max_length=MAX_BATCH)]
TelemetryBody = TelemetryIn | TelemetryBatch


def reports(body: TelemetryIn | list[TelemetryIn], now: datetime) -> list[Report]:
    items = body if isinstance(body, list) else [body]
    return [item.report(now) for item in items]


class TelemetryAccepted(BaseModel):
    device_id: str
    accepted: int
    moved: bool = Field(description="Whether this changed the device's latest position")
    suspect: int = Field(
        default=0,
        description="Points recorded as suspect (outside the city's area, or a jump faster "
        "than a car): stored, never used for dispatch nor shown as live",
    )


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: DeviceKind
    squad_code: str | None = Field(default=None, max_length=64)
    label: str = Field(default="", max_length=200)


class Location(BaseModel):
    lon: float
    lat: float
    crs: Literal["wgs84"] = "wgs84"


class PositionOut(BaseModel):
    at: datetime
    location: Location
    heading: float | None
    speed: float | None
    altitude: float | None
    battery: float | None
    accuracy: float | None
    jurisdiction_code: str | None

    @classmethod
    def of(cls, position: Position) -> PositionOut:
        return cls(
            at=position.at,
            location=Location(lon=position.lon, lat=position.lat),
            heading=position.heading,
            speed=position.speed,
            altitude=position.altitude,
            battery=position.battery,
            accuracy=position.accuracy,
            jurisdiction_code=position.jurisdiction_code,
        )


class DeviceOut(BaseModel):
    id: str
    kind: DeviceKind
    squad_code: str | None
    label: str
    position: PositionOut | None = None
    stream: dict[str, Any] | None = Field(
        default=None, description="Its live stream: name, state, whep (where to watch it)"
    )

    @classmethod
    def of(
        cls, device: Device, position: Position | None, stream: dict[str, Any] | None
    ) -> DeviceOut:
        return cls(
            id=device.id,
            kind=device.kind,
            squad_code=device.squad_code,
            label=device.label,
            position=PositionOut.of(position) if position else None,
            stream=stream,
        )
