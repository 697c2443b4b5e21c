"""`GET /health/live` (the process answers), `GET /health/ready` (it can take work: 503
if not) and `GET /health`, the older name of ready. None of them is rate-limited
(floods.AddressLimit lets them through), so a busy address never takes a host out of a
load balancer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from command_center.health import service

router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> JSONResponse:
    return JSONResponse({"status": "alive"})


@router.get("/health/ready")
@router.get("/health")
async def ready(request: Request) -> JSONResponse:
    state = request.app.state
    result = await service.readiness(
        database=state.database,
        bus=state.bus,
        limiter=state.limiter,
        redis_configured=state.settings.redis.configured,
    )
    body = result.body() | {
        "bus": state.bus.name,
        "websocket_connections": state.hub.connections,
        "last_event_id": state.hub.last_id,
    }
    return JSONResponse(body, status_code=200 if result.ready else 503)
