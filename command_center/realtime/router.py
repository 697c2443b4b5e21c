"""`/ws`: the live event stream, filtered by the bearer token's scope.

Credentials: the `token` query parameter, an `Authorization: Bearer` header, or the
session cookie of a page of this site (Origin checked). `after=<id>` to first
replay every event in scope with a larger id. Messages are JSON
`{"id", "type", "at", "data"}` in increasing id order, each sent once per connection.
Close codes: 4401 bad token, or the token, session or account ended while open (within
about a second); 4403 a cookie from another site's page; 4400 bad `after`; 1013 the
client fell too far behind (reconnect with `after=`), 1013 also when the database is
unreachable during the replay, 1011 server error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from command_center.auth.dependencies import resolve
from command_center.auth.model import Principal
from command_center.auth.sockets import while_credential_lasts
from command_center.db.session import UNAVAILABLE
from command_center.errors import DomainError, Forbidden
from command_center.realtime import repository
from command_center.realtime.frames import PREBUILT
from command_center.realtime.hub import Hub, Outgoing, Send, Subscriber

router = APIRouter()

REPLAY_BATCH = 500


@router.websocket("/ws")
async def events_socket(websocket: WebSocket) -> None:
    try:
        principal = await resolve(websocket)
    except DomainError as exc:
        await websocket.accept()
        code = 4403 if isinstance(exc, Forbidden) else 4401
        await websocket.close(code=code, reason=exc.message)
        return
    after_text = websocket.query_params.get("after")
    if after_text is not None and not (after_text.isdigit() and len(after_text) < 19):
        await websocket.accept()
        await websocket.close(code=4400, reason="after must be a non-negative event id")
        return
    hub: Hub = websocket.app.state.hub
    await websocket.accept()
    subscriber = hub.subscribe(principal)
    try:
        await while_credential_lasts(
            websocket, principal, _converse(websocket, hub, subscriber, principal, after_text)
        )
    except WebSocketDisconnect:
        pass
    except UNAVAILABLE:  # the replay could not read the log; the client comes back later
        with contextlib.suppress(Exception):
            await websocket.close(code=1013, reason="the event log is unavailable; reconnect")
    finally:
        hub.unsubscribe(subscriber)


async def _converse(
    websocket: WebSocket,
    hub: Hub,
    subscriber: Subscriber,
    principal: Principal,
    after_text: str | None,
) -> None:
    last_sent = await _replay(websocket, principal, int(after_text)) if after_text else 0
    await _stream(websocket, hub, subscriber, last_sent)


async def _replay(websocket: WebSocket, principal: Principal, after_id: int) -> int:
    database = websocket.app.state.database
    last_sent = after_id
    while True:
        async with database.sessions() as session:
            events = await repository.after_in_scope(
                session, principal=principal, after_id=last_sent, limit=REPLAY_BATCH
            )
        for event in events:
            await websocket.send_text(event.public_json())
            last_sent = event.id
        if len(events) < REPLAY_BATCH:
            return last_sent


async def _stream(websocket: WebSocket, hub: Hub, subscriber: Subscriber, last_sent: int) -> None:
    """Send live events until the client leaves or falls too far behind. A client that
    fell behind leaves the hub at once; closing its socket may take the websockets
    library up to 4 × its close timeout (10 s) when the client does not read at all."""
    sender = asyncio.create_task(_send_live(websocket, subscriber, last_sent))
    receiver = asyncio.create_task(_drain_incoming(websocket))
    overflow = asyncio.create_task(subscriber.overflowed.wait())
    tasks = {sender, receiver, overflow}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if overflow in done:
            hub.unsubscribe(subscriber)
            await websocket.close(code=1013, reason="too far behind; reconnect with after=")
        for task in done:
            if task is not overflow and not task.cancelled() and task.exception():
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _send_live(websocket: WebSocket, subscriber: Subscriber, last_sent: int) -> None:
    """Live from here: the hub sends most events itself (see Subscriber); this sends what
    had to wait, and returns when a send failed (the client is gone)."""
    subscriber.go_live(_sender(websocket), last_sent)
    await subscriber.run_sender()


def _sender(websocket: WebSocket) -> Send:
    """Sends an event as text, offering its pre-built frame to a server that takes it
    (wsprotocol.py); any other ASGI server sends the text."""
    send = websocket.send

    def send_outgoing(outgoing: Outgoing) -> Coroutine[Any, Any, None]:
        return send({"type": "websocket.send", "text": outgoing.text, PREBUILT: outgoing.frame})

    return send_outgoing


async def _drain_incoming(websocket: WebSocket) -> None:
    """Read and ignore client messages until the client goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
