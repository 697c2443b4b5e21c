"""Websocket frames built once per event, not once per connection (RFC 6455 §5.2).

A server's frames are never masked, so the bytes of one event's text frame are the same
for every connection that gets it: the hub builds them once and the websocket protocol
(wsprotocol.py) writes them as they are — where the connection negotiated no extension
that would change them (permessage-deflate).
"""

from __future__ import annotations

FIN_TEXT = 0x81  # FIN bit and opcode 1 (text)

PREBUILT = "command_center.frame"  # the key of a `websocket.send` message that carries one


def text_frame(payload: str) -> bytes:
    """One unfragmented, unmasked text frame carrying `payload` (UTF-8)."""
    data = payload.encode()
    size = len(data)
    if size < 126:
        header = bytes((FIN_TEXT, size))
    elif size < 1 << 16:
        header = bytes((FIN_TEXT, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((FIN_TEXT, 127)) + size.to_bytes(8, "big")
    return header + data
