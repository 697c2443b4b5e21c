"""Caps on open websockets per client address and per token (issue 15, finding 5).

One token from one address opened 400 sockets to /ws; each costs a queue and a task.
This ASGI middleware counts the open websockets of this process per address and per
token (a digest of it, never the token): past WEBSOCKET_CONNECTIONS_PER_ADDRESS or
WEBSOCKET_CONNECTIONS_PER_TOKEN the socket is accepted and at once closed with code
4429 ("too many connections", after HTTP's 429) and a reason naming which cap, so that
a client can tell it from a bad token (4401). Counting is per process: with N workers an
address may hold up to N × the cap. The address is the one uvicorn gives (the TCP peer,
or X-Forwarded-For from FORWARDED_ALLOW_IPS).
"""

from __future__ import annotations

import hashlib
from collections import Counter

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from command_center.auth.dependencies import bearer_token
from command_center.errors import Unauthenticated

TOO_MANY_CONNECTIONS = 4429


class WebsocketCaps:
    def __init__(self, app: ASGIApp, *, per_address: int, per_token: int) -> None:
        self.app = app
        self.per_address = per_address
        self.per_token = per_token
        self.open: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        keys = self._keys(scope)
        refused = self._refusal(keys)
        if refused is not None:
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": TOO_MANY_CONNECTIONS, "reason": refused})
            return
        self.open.update(keys)
        try:
            await self.app(scope, receive, send)
        finally:
            self.open.subtract(keys)
            for key in keys:
                if self.open[key] <= 0:
                    del self.open[key]

    def _keys(self, scope: Scope) -> list[str]:
        client = scope.get("client")
        keys = [f"address:{client[0] if client else 'unknown'}"]
        try:
            token = bearer_token(
                Headers(scope=scope).get("authorization"),
                QueryParams(scope.get("query_string", b"")).get("token"),
            )
        except Unauthenticated:
            token = None  # the endpoint refuses it (4401); the address still counts
        if token:
            keys.append("token:" + hashlib.sha256(token.encode()).hexdigest()[:32])
        return keys

    def _refusal(self, keys: list[str]) -> str | None:
        for key in keys:
            kind, _, _ = key.partition(":")
            cap = self.per_address if kind == "address" else self.per_token
            if self.open[key] >= cap:
                return f"too many open websockets for this {kind} (at most {cap})"
        return None
