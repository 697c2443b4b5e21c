"""Telemetry in (HTTP or websocket, device tokens), live positions out (`/ws/telemetry`),
and the device registry.

`/ws/telemetry?token=…` speaks JSON text frames:

- a device token sends reports — one object or a list of up to 100 —
  `{"lon", "lat", "crs", "at", "heading", "speed", "altitude", "battery", "accuracy"}`,
  and gets `{"type": "ack", "accepted": n}` or `{"type": "error", "detail": …}` back;
- any other token receives `{"type": "snapshot", "positions": [...]}` (the last fresh
  position of every device in its scope), then `{"type": "position", …}` and
  `{"type": "stream", …}` messages as they happen. Only the newest message per device
  waits for a slow client: it skips positions, never falls behind.

Close codes: 4401 bad token, 4403 a token that may neither report nor watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, WebSocket, WebSocketDisconnect
from pydantic import TypeAdapter, ValidationError

from command_center.auth.model import DEVICE_ID_PATTERN, Principal, Role
from command_center.auth.sockets import while_credential_lasts
from command_center.errors import DomainError, Forbidden, InvalidInput
from command_center.telemetry import service
from command_center.telemetry.dependencies import AnyPrincipal, socket_principal
from command_center.telemetry.hub import TelemetryHub, Watcher
from command_center.telemetry.model import position_body
from command_center.telemetry.schemas import (
    DeviceIn,
    DeviceOut,
    TelemetryAccepted,
    TelemetryBody,
    TelemetryIn,
    reports,
)

router = APIRouter(tags=["telemetry"])

DeviceId = Annotated[str, Path(pattern=DEVICE_ID_PATTERN, description="Device id")]
_BODY: TypeAdapter[Any] = TypeAdapter(TelemetryBody)


def _streams(state: Any) -> service.StreamLookup:
    lookup: service.StreamLookup = getattr(state, "stream_lookup", lambda _device: None)
    return lookup


@router.post("/api/v1/telemetry", response_model=TelemetryAccepted)
async def report_telemetry(
    body: TelemetryBody, request: Request, by: AnyPrincipal
) -> TelemetryAccepted:
    """A device reports where it is (one report or a list of up to 100); device tokens only."""
    return await _ingest(request.app.state, by, body)


async def _ingest(
    state: Any, by: Principal, body: TelemetryIn | list[TelemetryIn]
) -> TelemetryAccepted:
    service.require_device(by)
    points = reports(body, datetime.now(UTC))
    async with state.database.transaction() as session:
        device = await service.ensure_device(session=session, by=by)
        recorded = await service.record(
            session=session, device=device, reports=points, rule=state.plausibility
        )
    position = recorded.position
    await service.broadcast(bus=state.telemetry_bus, position=position, streams=_streams(state))
    return TelemetryAccepted(
        device_id=device.id,
        accepted=len(points),
        moved=position is not None,
        suspect=recorded.suspect,
    )


@router.get("/api/v1/devices", response_model=list[DeviceOut])
async def list_devices(request: Request, by: AnyPrincipal) -> list[DeviceOut]:
    """Devices in the caller's scope with their last position and live stream, if any."""
    state = request.app.state
    async with state.database.sessions() as session:
        found = await service.devices_in_scope(session=session, by=by)
    lookup = _streams(state)
    return [DeviceOut.of(device, position, lookup(device.id)) for device, position in found]


@router.put("/api/v1/devices/{device_id}", response_model=DeviceOut)
async def register_device(
    device_id: DeviceId, body: DeviceIn, request: Request, by: AnyPrincipal
) -> DeviceOut:
    """Register or change a device: its kind, squad and label (admins)."""
    if by.role is not Role.ADMIN:
        raise Forbidden("only admins register devices")
    state = request.app.state
    async with state.database.transaction() as session:
        device = await service.register(
            session=session,
            device_id=device_id,
            kind=body.kind,
            squad_code=body.squad_code,
            label=body.label,
        )
        position = await service.last_position(session=session, device=device)
    return DeviceOut.of(device, position, _streams(state)(device.id))


@router.websocket("/ws/telemetry")
async def telemetry_socket(websocket: WebSocket) -> None:
    try:
        principal = await socket_principal(websocket)
    except DomainError as exc:
        await websocket.accept()
        code = 4403 if isinstance(exc, Forbidden) else 4401
        await websocket.close(code=code, reason=exc.message)
        return
    await websocket.accept()
    try:
        if principal.role is Role.DEVICE:
            work = _receive_reports(websocket, principal)
        elif principal.role in service.WATCHERS:
            work = _send_positions(websocket, principal)
        else:
            await websocket.close(code=4403, reason="this token can neither report nor watch")
            return
        await while_credential_lasts(websocket, principal, work)
    except WebSocketDisconnect:
        pass


async def _receive_reports(websocket: WebSocket, principal: Principal) -> None:
    state = websocket.app.state
    while True:
        text = await websocket.receive_text()
        try:
            body = _BODY.validate_json(text)
            accepted = await _ingest(state, principal, body)
        except ValidationError as exc:
            await _send(websocket, {"type": "error", "detail": _problems(exc)})
        except (InvalidInput, Forbidden) as exc:
            await _send(websocket, {"type": "error", "detail": exc.message})
        else:
            await _send(websocket, {"type": "ack", "accepted": accepted.accepted})


async def _send_positions(websocket: WebSocket, principal: Principal) -> None:
    state = websocket.app.state
    hub: TelemetryHub = state.telemetry_hub
    watcher = hub.subscribe(principal)  # before the snapshot: nothing falls in between
    try:
        async with state.database.sessions() as session:
            found = await service.positions_in_scope(session=session, by=principal)
        lookup = _streams(state)
        snapshot = [position_body(p, lookup(p.device.id)) for p in found]
        await _send(websocket, {"type": "snapshot", "positions": snapshot})
        await _until_gone(websocket, _forward(websocket, watcher))
    finally:
        hub.unsubscribe(watcher)


async def _forward(websocket: WebSocket, watcher: Watcher) -> None:
    while True:
        for text in await watcher.next_batch():
            await websocket.send_text(text)


async def _until_gone(websocket: WebSocket, work: Any) -> None:
    """Run `work` until it ends or the client leaves (client messages are ignored)."""
    sender = asyncio.create_task(work)
    receiver = asyncio.create_task(_drain(websocket))
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in (sender, receiver):
            task.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)


async def _drain(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


async def _send(websocket: WebSocket, body: dict[str, Any]) -> None:
    await websocket.send_text(json.dumps(body, ensure_ascii=False, separators=(",", ":")))


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )
