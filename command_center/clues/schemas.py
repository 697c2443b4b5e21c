"""Request and response shapes of the clue API. Positions: WGS84 unless `crs` says gcj02."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from command_center.clues.model import MAX_DESCRIPTION, Action, ClueRecord, Position, State
from command_center.privacy import mask_phone


class GridReportIn(BaseModel):
    """A grid worker's (or operator's) report of what they see."""

    model_config = ConfigDict(extra="forbid")

    matter_code: str = Field(min_length=1, max_length=64, description="Matter (service) code")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    crs: Literal["wgs84", "gcj02"] = Field(
        default="wgs84", description="Coordinate system of lon/lat; phones usually send gcj02"
    )
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    media_url: str | None = Field(default=None, max_length=2048)


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    note: str | None = Field(default=None, max_length=2000)
    squad: str | None = Field(
        default=None, max_length=64, description="For `dispatch`: the squad to send"
    )
    into: int | None = Field(
        default=None, ge=1, description="For `link`: the id of the clue this one repeats"
    )
    lon: float | None = Field(
        default=None, ge=-180, le=180, allow_inf_nan=False, description="For `relocate`"
    )
    lat: float | None = Field(
        default=None, ge=-90, le=90, allow_inf_nan=False, description="For `relocate`"
    )
    crs: Literal["wgs84", "gcj02"] = Field(
        default="wgs84", description="For `relocate`: the coordinate system of lon/lat"
    )

    def position(self) -> Position | None:
        """The new position `relocate` needs; None unless both lon and lat are given."""
        if self.lon is None or self.lat is None:
            return None
        return Position(lon=self.lon, lat=self.lat, crs=self.crs)


class Location(BaseModel):
    lon: float
    lat: float
    crs: Literal["wgs84"] = "wgs84"


class ClueOut(BaseModel):
    id: int
    service_request_id: str
    state: State
    channel: str
    matter_code: str
    matter_name: str
    legal_basis: str
    department: str
    jurisdiction_code: str
    jurisdiction_name: str
    squad_code: str | None
    deadline: datetime | None
    queue_reason: str | None
    queue_reason_code: str | None = Field(
        default=None,
        description="Why it waits for the operator, as a code: no_squad_serves, "
        "all_off_duty, not_accepted, address_only, returned (queue_reason says it in words)",
    )
    status_note: str | None
    description: str
    media_url: str | None
    location: Location
    created_at: datetime
    updated_at: datetime
    duplicate_of: int | None
    report_count: int
    reporter_phone: str | None = Field(description="Masked, e.g. 138****8000")
    public_hidden: bool = Field(
        default=False, description="An operator hid it from the public views (moderation)"
    )
    public_description: str | None = Field(
        default=None,
        description="The text an operator wrote for the public in place of the description "
        "(None: the description, personal data masked)",
    )
    address: str | None = Field(
        default=None,
        description="The address the reporter gave (an address-only clue's only place)",
    )
    simulated: bool = Field(default=False, description="Sent by the demo's simulation")

    @classmethod
    def of(cls, clue: ClueRecord) -> ClueOut:
        return cls(
            id=clue.id,
            service_request_id=clue.service_request_id,
            state=clue.state,
            channel=clue.channel,
            matter_code=clue.matter_code,
            matter_name=clue.matter_name,
            legal_basis=clue.legal_basis,
            department=clue.department,
            jurisdiction_code=clue.jurisdiction_code,
            jurisdiction_name=clue.jurisdiction_name,
            squad_code=clue.squad_code,
            deadline=clue.deadline,
            queue_reason=clue.queue_reason,
            queue_reason_code=clue.queue_reason_code,
            status_note=clue.status_note,
            description=clue.description,
            media_url=clue.media_url,
            location=Location(lon=clue.lon, lat=clue.lat),
            created_at=clue.created_at,
            updated_at=clue.updated_at,
            duplicate_of=clue.duplicate_of,
            report_count=clue.report_count,
            reporter_phone=mask_phone(clue.reporter_phone),
            public_hidden=clue.public_hidden,
            public_description=clue.public_description,
            address=clue.address,
            simulated=clue.simulated,
        )


class EventOut(BaseModel):
    id: int
    type: str
    at: str
    data: dict[str, object]
