"""Response shapes of the consoles' read models. Every position is WGS84 (`crs`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class LonLat(BaseModel):
    lon: float
    lat: float
    crs: Literal["wgs84"] = "wgs84"


class ClusterOut(BaseModel):
    """Clues of one grid cell: where their centroid is, how many in each state."""

    lon: float
    lat: float
    count: int
    by_state: dict[str, int]
    overdue: int
    bounds: tuple[float, float, float, float] = Field(description="west, south, east, north")


class MapClueOut(BaseModel):
    id: int
    service_request_id: str
    state: str
    lon: float
    lat: float
    matter_code: str
    matter_name: str
    squad_code: str | None
    deadline: datetime | None
    created_at: datetime
    overdue: bool


class MapCluesOut(BaseModel):
    """The clues in a viewport: one by one (`points`) when there are at most `max_points`,
    else aggregated on a grid (`clusters`). Open clues and those closed since `since`."""

    mode: Literal["points", "clusters"]
    zoom: int
    total: int
    by_state: dict[str, int]
    overdue: int
    since: datetime
    cell: tuple[float, float] = Field(description="grid cell, degrees of lon and lat")
    clusters: list[ClusterOut]
    points: list[MapClueOut]
    crs: Literal["wgs84"] = "wgs84"


class SquadPositionOut(LonLat):
    at: datetime
    device_id: str


class MapSquadOut(BaseModel):
    code: str
    name: str
    department: str
    on_duty: bool = Field(
        description="On duty now: by its roster and the holidays when it has shifts, "
        "else by its on_duty flag — what dispatch uses"
    )
    base: LonLat
    position: SquadPositionOut | None = Field(
        description="The newest position of one of its devices within POSITION_MAX_AGE_SECONDS"
    )
    open_clues: int = Field(description="Workload: clues dispatched, accepted or on scene")
    devices: list[str]
    jurisdictions: list[str]


class CandidateOut(BaseModel):
    """A squad that could take the clue, explained as the dispatch ranking sees it."""

    squad_code: str
    name: str
    department: str
    rank: int | None = Field(description="1: what automatic dispatch would pick; None: ineligible")
    eligible: bool = Field(description="On shift (or on duty without a roster)")
    score: float
    distance_m: float
    open_clues: int
    handles_domain: bool
    position: Literal["live", "base"]


class EvidenceOut(BaseModel):
    id: int
    kind: str
    media_type: str
    sha256: str
    size_bytes: int
    taken_at: datetime | None
    created_at: datetime
    note: str | None
    device_id: str | None
    url: str = Field(description="GET it with the same token")


GeoJSON = dict[str, Any]
