"""`GET /metrics` for Prometheus. Open, unless METRICS_TOKEN is set: then it needs
`Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization: {credentials: …}`)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from command_center.errors import Unauthenticated
from command_center.metrics import service

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(request: Request) -> Response:
    state = request.app.state
    expected = state.settings.metrics_token
    if expected is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
            raise Unauthenticated("/metrics needs the METRICS_TOKEN as a bearer token")
    state.sample_connections()
    async with state.database.sessions() as session:
        body = await service.exposition(session=session, now=state.clock())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
