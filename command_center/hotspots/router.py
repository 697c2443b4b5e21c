"""`/api/v1/stats/hotspots`: where clues come from — ranked cells for patrol planning,
and the same cells as a GeoJSON heatmap layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.dependencies import CurrentPrincipal
from command_center.auth.model import Principal
from command_center.dependencies import ReadSession
from command_center.hotspots import service
from command_center.hotspots.model import Cells, Spot
from command_center.stats import service as stats_service
from command_center.stats.dependencies import AnyPeriod
from command_center.stats.periods import Period
from command_center.stats.schemas import PeriodOut

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])

Matter = Annotated[list[str] | None, Query(description="matter codes, repeatable")]
Hour = Annotated[int | None, Query(ge=0, le=23, description="local hour of day")]
Weekday = Annotated[int | None, Query(ge=1, le=7, description="ISO weekday, 1 = Monday")]
Resolution = Annotated[int | None, Query(ge=4, le=12, description="H3 resolution")]


@dataclass(frozen=True, slots=True)
class Ask:
    """The query both hot-spot endpoints take."""

    period: Period
    matter: list[str]
    hour: int | None
    weekday: int | None
    cells: Cells
    resolution: int | None


def ask(
    period: AnyPeriod,
    matter: Matter = None,
    hour: Hour = None,
    weekday: Weekday = None,
    cells: Cells = Cells.AUTO,
    resolution: Resolution = None,
) -> Ask:
    return Ask(period, matter or [], hour, weekday, cells, resolution)


Asked = Annotated[Ask, Depends(ask)]


async def _found(
    request: Request, session: AsyncSession, by: Principal, asked: Ask
) -> service.HotSpots:
    state = request.app.state
    scope = stats_service.scope_of(by)
    return await service.hotspots(
        session=session,
        period=asked.period,
        now=state.clock(),
        scope=scope,
        cells=asked.cells,
        resolution=asked.resolution or state.settings.hotspot_h3_resolution,
        matters=asked.matter,
        hour=asked.hour,
        weekday=asked.weekday,
    )


def _spot(spot: Spot, total: int) -> dict[str, Any]:
    return {
        "rank": spot.rank,
        "cell": spot.cell,
        "name": spot.name,
        "clues": spot.clues,
        "reports": spot.reports,
        "share": round(spot.clues / total, 4) if total else None,
        "top_matters": spot.top_matters(),
        "peak_hour": spot.peak_hour,
        "peak_weekday": spot.peak_weekday,
        "by_hour": spot.by_hour,
        "by_weekday": spot.by_weekday,
    }


@router.get("/hotspots")
async def hotspots(
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
    asked: Asked,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> dict[str, Any]:
    """The cells with the most clues received in the period (grid cells where loaded,
    else H3), each with its top matters, clues per local hour and weekday and their
    peaks: a ranked list for patrol planning. Filters: `matter`, `hour`, `weekday`."""
    found, chosen = await _found(request, session, by, asked), asked.period
    return {
        "period": PeriodOut.of(chosen).model_dump(mode="json"),
        "label": chosen.label,
        "cells": found.cells.value,
        "resolution": found.resolution,
        "total": found.total,
        "ranking": [_spot(s, found.total) for s in found.spots[:limit]],
    }


@router.get("/hotspots.geojson", response_class=JSONResponse)
async def hotspots_layer(
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
    asked: Asked,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> JSONResponse:
    """The heatmap layer: each cell's polygon (WGS84) with its clues and `intensity`
    (clues relative to the busiest cell, 0..1)."""
    found = await _found(request, session, by, asked)
    geometry = await service.shapes(session=session, found=found, limit=limit)
    busiest = found.spots[0].clues if found.spots else 0
    features = [
        {
            "type": "Feature",
            "id": s.cell,
            "geometry": geometry.get(s.cell),
            "properties": {
                "rank": s.rank,
                "cell": s.cell,
                "name": s.name,
                "clues": s.clues,
                "reports": s.reports,
                "intensity": round(s.clues / busiest, 4) if busiest else 0,
                "peak_hour": s.peak_hour,
                "peak_weekday": s.peak_weekday,
                "top_matter": (s.top_matters(1) or [{"code": None}])[0]["code"],
            },
        }
        for s in found.spots[:limit]
    ]
    return JSONResponse(
        {"type": "FeatureCollection", "features": features}, media_type="application/geo+json"
    )
