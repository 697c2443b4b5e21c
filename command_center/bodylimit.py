"""An ASGI middleware that bounds request bodies: a declared Content-Length over the
limit is answered 413 at once; a body that grows past it while being read raises
BodyTooLarge (413 through the error handlers). Nothing over the limit is buffered."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from command_center.errors import TooLarge

RejectResponse = Callable[[str, int, str], Response]


class BodyTooLarge(TooLarge, HTTPException):
    """TooLarge, and an HTTPException too: FastAPI re-raises HTTPExceptions met while it
    parses a JSON body, where any other error would become "400 error parsing the body"."""

    def __init__(self, message: str) -> None:
        HTTPException.__init__(self, status_code=413, detail=message)
        self.message = message


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        overrides: Mapping[str, int],
        reject: RejectResponse,
    ) -> None:
        self.app = app
        self.default = default
        self.overrides = dict(overrides)
        self.reject = reject

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.overrides.items():
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.limit_for(path)
        message = f"the request body is larger than {limit} bytes"
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self.reject(path, 413, message)(scope, receive, send)
            return
        seen = 0

        async def bounded_receive() -> Message:
            nonlocal seen
            received = await receive()
            if received["type"] == "http.request":
                seen += len(received.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(message)
            return received

        await self.app(scope, bounded_receive, send)
