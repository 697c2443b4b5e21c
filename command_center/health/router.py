"""`GET /health`: whether the database and the bus are reachable (503 if the database
is not, or a configured Redis is not)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])

CHECK_TIMEOUT = 3.0


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    state = request.app.state
    database = await _database_ok(request)
    if state.settings.redis_url is None:
        redis = "not configured (in-process bus)"
        redis_ok = True
    else:
        try:
            redis_ok = await asyncio.wait_for(state.bus.healthy(), CHECK_TIMEOUT)
        except TimeoutError:
            redis_ok = False
        redis = "ok" if redis_ok else "unreachable"
    healthy = database and redis_ok
    body = {
        "status": "ok" if healthy else "degraded",
        "database": "ok" if database else "unreachable",
        "redis": redis,
        "bus": state.bus.name,
        "websocket_connections": state.hub.connections,
        "last_event_id": state.hub.last_id,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


async def _database_ok(request: Request) -> bool:
    try:
        async with request.app.state.database.sessions() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), CHECK_TIMEOUT)
        return True
    except Exception:
        return False
