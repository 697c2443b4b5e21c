"""The app factory: the one place where concrete adapters are built and wired."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from command_center import errors
from command_center.bodylimit import BodyLimit
from command_center.clues.router import router as clues_router
from command_center.db.session import Database
from command_center.evidence.storage import DirectoryStore
from command_center.health.router import router as health_router
from command_center.logs import install_redaction
from command_center.open311.formats import open311_errors
from command_center.open311.intake import Limits
from command_center.open311.router import router as open311_router
from command_center.ratelimit import Limit, MemoryRateLimiter, RedisRateLimiter
from command_center.realtime.bus import Bus, LocalBus, RedisBus
from command_center.realtime.hub import Hub
from command_center.realtime.relay import Relay
from command_center.realtime.router import router as realtime_router
from command_center.residents.router import router as residents_router
from command_center.settings import Settings

log = logging.getLogger(__name__)


def build_bus(settings: Settings) -> Bus:
    if settings.redis_url:
        return RedisBus(settings.redis_url, settings.event_channel)
    return LocalBus()


def create_app(settings: Settings) -> FastAPI:
    """A configured app; connections open in its lifespan, never here."""
    signing_key = settings.signing_key()  # refuse to start without SECRET_KEY
    install_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database.from_settings(settings)
        bus = build_bus(settings)
        hub = Hub(
            database=database,
            poll_seconds=settings.outbox_poll_seconds,
            queue_size=settings.websocket_queue_size,
        )
        relay = Relay(
            database=database,
            conninfo=settings.psycopg_conninfo,
            publish=bus.publish,
            poll_seconds=settings.outbox_poll_seconds,
            on_publish_failed=hub.nudge,  # this process's clients need not wait for the poll
        )
        app.state.database, app.state.bus, app.state.hub = database, bus, hub
        limiter = (
            RedisRateLimiter(settings.redis_url, f"{settings.event_channel}:rate")
            if settings.redis_url
            else MemoryRateLimiter()
        )
        app.state.limiter = limiter
        await hub.start()
        await bus.start(hub.offer, on_reconnect=hub.nudge)
        await relay.start()
        try:
            yield
        finally:
            await relay.stop()
            await bus.stop()
            await hub.stop()
            if isinstance(limiter, RedisRateLimiter):
                await limiter.close()
            await database.dispose()

    app = FastAPI(
        title="Command Center",
        summary="Dispatch command center for integrated city enforcement",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.media = DirectoryStore(settings.media_dir)
    app.state.intake_limits = Limits(
        resident=Limit(settings.resident_reports_per_minute, 60),
        partner_default=settings.partner_default_rate,
    )
    app.state.signing_key = signing_key
    _install_error_handlers(app)
    for router in (
        open311_router,
        clues_router,
        residents_router,
        realtime_router,
        health_router,
    ):
        app.include_router(router)
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        overrides={"/api/v1/public/tips": settings.tip_max_body_bytes},
        reject=_body_too_large,
    )
    return app


def _body_too_large(path: str, status: int, message: str) -> Response:
    if path.startswith("/open311/"):
        return open311_errors(path, status, message, {})
    return JSONResponse({"error": "too_large", "detail": message}, status_code=status)


def _is_open311(request: Request) -> bool:
    return request.url.path.startswith("/open311/")


def _error_response(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    headers = dict(headers or {})
    if _is_open311(request):
        return open311_errors(request.url.path, status, message, headers)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": code, "detail": message}, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    async def domain_error(request: Request, exc: errors.DomainError) -> Response:
        headers = (
            {"Retry-After": str(exc.retry_after)} if isinstance(exc, errors.RateLimited) else None
        )
        return _error_response(request, errors.http_status(exc), exc.code, exc.message, headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error_response(
            request, exc.status_code, "http_error", str(exc.detail), dict(exc.headers or {})
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # Never echo the input back: it may hold personal data.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'] if p != 'body') or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        status = 400 if _is_open311(request) else 422
        return _error_response(request, status, "invalid_input", problems)

    @app.exception_handler(ClientDisconnect)
    async def client_left(request: Request, exc: ClientDisconnect) -> Response:
        # Nobody is there to read an answer; not an error of ours.
        return _error_response(request, 400, "client_disconnected", "the client went away")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        reference = uuid.uuid4().hex[:12]
        log.error(
            "unhandled error %s on %s %s", reference, request.method, request.url.path, exc_info=exc
        )
        return _error_response(
            request, 500, "internal_error", f"internal error; reference {reference}"
        )
