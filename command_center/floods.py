"""An ASGI middleware that bounds how many requests one client address makes without a
valid bearer token: past `limit` it answers 429 with Retry-After before anything of the
request is read, so a flood from one address costs a counter, not a database query,
and everyone else is served as before.

Callers with a valid token (staff, devices) are not counted: they are known and their
tokens expire. Residents and partners (whose `api_key` travels in the body) are; set
the limit above a partner's rate, or 0 to turn it off. Counting is per process (with
N workers an address may make up to N × limit requests per second). The health checks
and `/metrics` (UNCOUNTED) are never counted nor refused: a load balancer or Prometheus
polling from a busy address must not see a healthy host refuse them. The client address
is the TCP peer's, unless the peer is one of FORWARDED_ALLOW_IPS (a reverse proxy; none
by default): then uvicorn takes it from X-Forwarded-For.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.datastructures import Headers, QueryParams
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from command_center.auth import tokens
from command_center.auth.dependencies import bearer_token
from command_center.errors import Unauthenticated
from command_center.ratelimit import Limit, MemoryRateLimiter

RejectResponse = Callable[[str, int, str, Mapping[str, str]], Response]

UNCOUNTED = frozenset({"/health", "/health/live", "/health/ready", "/metrics"})


class AddressLimit:
    def __init__(
        self, app: ASGIApp, *, limit: Limit | None, signing_key: str, reject: RejectResponse
    ) -> None:
        self.app = app
        self.limit = limit
        self.signing_key = signing_key
        self.reject = reject
        self.counter = MemoryRateLimiter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or self.limit is None
            or scope.get("path") in UNCOUNTED
            or self._authenticated(scope)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        wait = await self.counter.hit(f"address:{address}", self.limit)
        if wait is None:
            await self.app(scope, receive, send)
            return
        message = f"too many requests from this address; try again in {wait} s"
        response = self.reject(scope.get("path", ""), 429, message, {"Retry-After": str(wait)})
        await response(scope, receive, send)

    def _authenticated(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        query = QueryParams(scope.get("query_string", b""))
        try:
            token = bearer_token(headers.get("authorization"), query.get("token"))
            if token is None:
                return False
            tokens.verify(token, key=self.signing_key, allow_device=True)
        except Unauthenticated:
            return False
        return True
