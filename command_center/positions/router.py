"""`/api/v1/positions/osmand`: the OsmAnd protocol that trackers and tracking apps speak
(GET with query parameters, or POST with the same as a form or query). Answers 200 with
an empty body, as those clients expect; 400 names a bad field; 404 an unknown device."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

from command_center.positions import service
from command_center.positions.model import parse_osmand
from command_center.telemetry import service as telemetry_service

router = APIRouter(tags=["positions"])


@router.get("/api/v1/positions/osmand")
async def osmand_get(request: Request) -> Response:
    """One position report as query parameters."""
    return await _osmand(request)


@router.post("/api/v1/positions/osmand")
async def osmand_post(request: Request) -> Response:
    """One position report as a form body and/or query parameters."""
    return await _osmand(request)


async def _osmand(request: Request) -> Response:
    params = dict(request.query_params)
    if request.method == "POST":
        body = (await request.body()).decode("utf-8", errors="replace")
        params.update(parse_qsl(body, keep_blank_values=True, max_num_fields=50))
    state = request.app.state
    now = state.clock()
    report = parse_osmand(params, now=now)
    async with state.database.transaction() as session:
        position = await service.report_osmand(session=session, report=report, now=now)
    await telemetry_service.broadcast(
        bus=state.telemetry_bus, position=position, streams=state.stream_lookup
    )
    return Response(status_code=200)
