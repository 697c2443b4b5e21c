"""The security headers of every answer, from one place (issue 15, finding 8).

Every page — the consoles, /track, /video/publish and /video/watch, /docs and /redoc —
and every other answer carries the same Content-Security-Policy: scripts only from this
service (`script-src 'self'`, no inline script: folium's map script, the video pages'
scripts and Swagger UI's start-up are served as files), images also from the tile host
if one is configured, no framing by other sites (`frame-ancestors 'self'`), plus
`X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` (a console's URL
carries its token). Styles may still be inline: folium and ReDoc write them, and a style
cannot run code.

An answer that sets one of these headers itself keeps its own value.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(image_sources: Iterable[str] = ()) -> str:
    images = " ".join(["'self'", "data:", "blob:", *image_sources])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "media-src 'self' blob:",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


def security_headers(image_sources: Iterable[str] = ()) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(image_sources),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


class SecurityHeaders:
    """ASGI middleware: `security_headers` on every HTTP answer that lacks them."""

    def __init__(self, app: ASGIApp, *, image_sources: Iterable[str] = ()) -> None:
        self.app = app
        self.headers = security_headers(image_sources)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
