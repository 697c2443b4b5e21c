"""`/api/v1/exports/clues.geojson` and `.csv`: clues with filters, for GIS tools and
spreadsheets. Streamed; at most 100,000 rows per request."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from command_center.auth.dependencies import CurrentPrincipal
from command_center.clues.model import State
from command_center.exports import service
from command_center.exports.model import DEFAULT_ROWS, MAX_ROWS, Filters
from command_center.ogc.model import parse_bbox
from command_center.stats.periods import parse_day

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])

MEDIA = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}


@router.get("/clues.{fmt}", response_class=StreamingResponse)
async def export_clues(
    fmt: Literal["geojson", "csv"],
    request: Request,
    by: CurrentPrincipal,
    state: Annotated[list[State] | None, Query(description="repeatable")] = None,
    matter: Annotated[list[str] | None, Query(description="matter codes, repeatable")] = None,
    department: Annotated[str | None, Query(max_length=100)] = None,
    jurisdiction: Annotated[str | None, Query(max_length=64)] = None,
    received_from: Annotated[str | None, Query(description="YYYY-MM-DD, local")] = None,
    received_to: Annotated[str | None, Query(description="YYYY-MM-DD, included")] = None,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (WGS84)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = DEFAULT_ROWS,
) -> StreamingResponse:
    """Clues in the caller's scope (a `jurisdiction` outside it matches nothing), oldest
    first. WGS84 positions, UTC times, no personal data."""
    scope = service.scope_of(by)
    box = parse_bbox(bbox)
    filters = Filters(
        states=tuple(s.value for s in state or ()),
        matters=tuple(matter or ()),
        department=department,
        jurisdiction=jurisdiction,
        received_from=parse_day(received_from, "received_from") if received_from else None,
        received_to=parse_day(received_to, "received_to") if received_to else None,
        bbox=(box.west, box.south, box.east, box.north) if box else None,
        limit=limit,
    )
    state_ = request.app.state
    write = service.as_csv if fmt == "csv" else service.as_geojson
    chunks = await service.started(
        write(database=state_.database, filters=filters, scope=scope, zone=state_.settings.zone)
    )
    return StreamingResponse(
        chunks,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="clues.{fmt}"'},
    )
