"""Requests carrying the simulation header: refused (403) unless the database is marked
as a demo; otherwise served with `simulated_request` set, so that a clue they send is
recorded as simulated. Websockets with the header are refused the same way (closed
before accept). Requests without the header, and `GET /api/v1/demo` (how the simulation
asks first), pass untouched."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from command_center.demo.model import SIMULATION_HEADER, simulated_request

HEADER = SIMULATION_HEADER.lower().encode()
ASKING = "/api/v1/demo"
REFUSAL = "the simulation runs only against a database marked as a demo (command-center demo-mark)"


class SimulationGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or HEADER not in dict(scope["headers"])
            or scope["path"] == ASKING
        ):
            await self.app(scope, receive, send)
            return
        mark = await scope["app"].state.demo_status.current()
        if mark is None:
            if scope["type"] == "websocket":
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008, "reason": "not a demo"})
                return
            await JSONResponse({"detail": REFUSAL}, status_code=403)(scope, receive, send)
            return
        token = simulated_request.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            simulated_request.reset(token)
