"""An ASGI middleware that bounds how many requests one client address makes without a
valid bearer token: past `limit` it answers 429 with Retry-After before anything of the
request is read, so a flood from one address costs a counter, not a database query,
and everyone else is served as before.

Callers with a valid staff token are not counted: they are known and their tokens
expire. A device token has a budget of its own (DEVICE_REQUESTS_PER_SECOND, counted per
device id): a camera or phone is unattended, and a stolen device token must not turn
into an unlimited one (issue 15, finding 5). Residents and partners (whose `api_key`
travels in the body) are counted per address; set the limit above a partner's rate, or
0 to turn it off. Counting is per process (with N workers an address may make up to
N × limit requests per second). The health checks and `/metrics` (UNCOUNTED) are never
counted nor refused: a load balancer or Prometheus polling from a busy address must not
see a healthy host refuse them. The client address
is the TCP peer's, unless the peer is one of FORWARDED_ALLOW_IPS (a reverse proxy; none
by default): then uvicorn takes it from X-Forwarded-For.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from command_center.auth import tokens
from command_center.auth.dependencies import bearer_token, query_token
from command_center.auth.model import Principal, Role
from command_center.errors import Unauthenticated
from command_center.ratelimit import Limit, MemoryRateLimiter

RejectResponse = Callable[[str, int, str, Mapping[str, str]], Response]

UNCOUNTED = frozenset({"/health", "/health/live", "/health/ready", "/metrics"})


class AddressLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: Limit | None,
        signing_key: str,
        reject: RejectResponse,
        device_limit: Limit | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.device_limit = device_limit
        self.signing_key = signing_key
        self.reject = reject
        self.counter = MemoryRateLimiter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in UNCOUNTED:
            await self.app(scope, receive, send)
            return
        caller = self._caller(scope)
        if caller is not None and caller.role is not Role.DEVICE:
            await self.app(scope, receive, send)  # staff: known, and their tokens expire
            return
        if caller is None:
            client = scope.get("client")
            key, limit, who = f"address:{client[0] if client else 'unknown'}", self.limit, "address"
        else:
            device = caller.device or caller.subject
            key, limit, who = f"device:{device}", self.device_limit, "device"
        wait = None if limit is None else await self.counter.hit(key, limit)
        if wait is None:
            await self.app(scope, receive, send)
            return
        message = f"too many requests from this {who}; try again in {wait} s"
        response = self.reject(scope.get("path", ""), 429, message, {"Retry-After": str(wait)})
        await response(scope, receive, send)

    def _caller(self, scope: Scope) -> Principal | None:
        """The principal of a valid token; None without one (or with a bad one)."""
        headers = Headers(scope=scope)
        try:
            token = bearer_token(
                headers.get("authorization"), query_token(scope.get("query_string", b""))
            )
            if token is None:
                return None
            return tokens.verify(token, key=self.signing_key, allow_device=True)
        except Unauthenticated:
            return None
