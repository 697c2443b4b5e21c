"""uvicorn's websocket protocol, writing the hub's pre-built frames as they are.

Sending one event to thousands of connections, most of a worker's time per connection
went to building the same frame again (websockets' Frame.serialize, its state machine,
joining the output) before the one write that must happen. A `websocket.send` message
that carries `PREBUILT` (the frame's bytes, frames.py) next to its `text` is written
straight to the transport when the connection is open, writable and has negotiated no
extension; any other message, or any other state, goes the standard way. The key is an
addition to the ASGI message: another ASGI server ignores it and sends `text`, so the app
runs unchanged on any server.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from command_center.realtime.frames import PREBUILT


class PrebuiltFrameProtocol(WebSocketsSansIOProtocol):
    """`serve` runs uvicorn with this protocol (uvicorn's `ws=` setting)."""

    async def send(self, message: Any) -> None:
        frame = message.get(PREBUILT) if message["type"] == "websocket.send" else None
        if frame is not None and self._takes_prebuilt_frames():
            if self.disconnected:
                raise ClientDisconnected()
            self.transport.write(frame)
            return
        await super().send(message)

    def _takes_prebuilt_frames(self) -> bool:
        return (
            self.writable.is_set()
            and self.handshake_complete
            and not self.close_sent
            and self.initial_response is None
            and self.conn.state is State.OPEN
            and not self.conn.extensions
        )
