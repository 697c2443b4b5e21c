"""`/api/v1/positions/osmand`: the OsmAnd protocol that trackers and tracking apps speak
(GET with query parameters, or POST with the same as a form or query). Answers 200 with
an empty body, as those clients expect; 400 names a bad field; 404 an id no tracker has.

`id` is a secret issued per member's phone (`import members`, `command-center osmand-id`),
not the device's name: the protocol carries no other credential. A wrong id gets the same
404 whatever it is. A position outside the city or too far from the last believed one
answers 200 like any other (the tracker has nothing to fix) but is stored as suspect."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

from command_center.positions import service
from command_center.positions.model import parse_osmand
from command_center.telemetry import service as telemetry_service

router = APIRouter(tags=["positions"])


def _parameter(name: str, kind: str, description: str) -> dict[str, object]:
    return {"name": name, "in": "query", "schema": {"type": kind}, "description": description}


# The OsmAnd fields, read by hand from the query (and a POST's form): documented here for
# clients, and so that the API's fuzz exercises them.
OSMAND = {
    "parameters": [
        _parameter("id", "string", "The secret tracker id issued for a member's phone"),
        _parameter("lat", "number", "Latitude"),
        _parameter("lon", "number", "Longitude"),
        _parameter("crs", "string", "`wgs84` (default) or `gcj02`"),
        _parameter("timestamp", "string", "Unix seconds or milliseconds, or ISO-8601"),
        _parameter("speed", "number", "Knots"),
        _parameter("bearing", "number", "Degrees from north"),
        _parameter("altitude", "number", "Metres"),
        _parameter("batt", "number", "Battery, %"),
        _parameter("accuracy", "number", "Metres"),
    ]
}


@router.get("/api/v1/positions/osmand", openapi_extra=OSMAND)
async def osmand_get(request: Request) -> Response:
    """One position report as query parameters."""
    return await _osmand(request)


@router.post("/api/v1/positions/osmand", openapi_extra=OSMAND)
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
        recorded = await service.report_osmand(
            session=session, report=report, now=now, rule=state.plausibility
        )
    await telemetry_service.broadcast(
        bus=state.telemetry_bus, position=recorded.position, streams=state.stream_lookup
    )
    return Response(status_code=200)
