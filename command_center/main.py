"""The app factory: the one place where concrete adapters are built and wired."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from command_center import errors, gcpolicy
from command_center.accounts import sso
from command_center.accounts.revocations import Revocations, revocation_channel
from command_center.accounts.router import router as accounts_router
from command_center.accounts.sso_router import router as sso_router
from command_center.alerts.router import router as alerts_router
from command_center.alerts.worker import AlertWorker
from command_center.apidocs import install as install_api_docs
from command_center.bodylimit import BodyLimit
from command_center.clues.router import router as clues_router
from command_center.console.router import router as console_router
from command_center.db.session import UNAVAILABLE, Database
from command_center.demo.middleware import SimulationGate
from command_center.demo.router import router as demo_router
from command_center.demo.service import DemoStatus
from command_center.dispatch.model import DispatchPolicy
from command_center.dispatch.ranking import Weights
from command_center.evidence.storage import DirectoryStore, MediaStore, object_store
from command_center.exports.router import router as exports_router
from command_center.floods import AddressLimit
from command_center.health.router import router as health_router
from command_center.hotspots.router import router as hotspots_router
from command_center.logs import install_redaction
from command_center.metrics import instruments
from command_center.metrics.router import router as metrics_router
from command_center.notifications.webhooks import WebhookDeliverer
from command_center.ogc.router import router as ogc_router
from command_center.open311.formats import open311_errors
from command_center.open311.intake import Limits
from command_center.open311.router import router as open311_router
from command_center.periodic import Periodic
from command_center.positions.router import router as positions_router
from command_center.publicview.model import PartnerView, PublicPolicy
from command_center.publicview.router import router as moderation_router
from command_center.ratelimit import Limit, MemoryRateLimiter, RedisRateLimiter
from command_center.realtime.bus import Bus, LocalBus, RedisBus
from command_center.realtime.hub import Hub
from command_center.realtime.relay import Relay
from command_center.realtime.router import router as realtime_router
from command_center.reports.router import router as reports_router
from command_center.reports.scheduler import ReportScheduler
from command_center.residents.router import router as residents_router
from command_center.securityheaders import SecurityHeaders
from command_center.settings import Settings
from command_center.stats.router import router as stats_router
from command_center.supervision.router import router as supervision_router
from command_center.supervision.scheduler import Scheduler
from command_center.telemetry.bus import LocalTelemetryBus, RedisTelemetryBus, TelemetryBus
from command_center.telemetry.hub import TelemetryHub
from command_center.telemetry.plausibility import Plausibility
from command_center.telemetry.router import router as telemetry_router
from command_center.video.credentials import Sealer, camera_key
from command_center.video.lifecycle import StreamEvents, stream_lookup
from command_center.video.router import router as video_router
from command_center.wslimits import WebsocketCaps
from feeds.video.ice import IceServers, announce_host_addresses, resolve_host_addresses
from feeds.video.model import Limits as VideoLimits
from feeds.video.model import StreamObserver
from feeds.video.pulling import CameraPuller
from feeds.video.streams import VideoServer
from web_console.router import install as install_consoles
from web_console.router import tiles_of

log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER = 2  # seconds, in the Retry-After of a 503 while the database is away


def dispatch_policy(settings: Settings) -> DispatchPolicy:
    return DispatchPolicy(
        weights=Weights(
            distance_per_km=settings.dispatch_weight_distance_per_km,
            per_open_clue=settings.dispatch_weight_per_open_clue,
            domain_mismatch=settings.dispatch_weight_domain_mismatch,
        ),
        zone=settings.timezone,
        max_position_age_s=settings.position_max_age_seconds,
    )


def build_bus(settings: Settings) -> Bus:
    if settings.redis.configured:
        return RedisBus(settings.redis, settings.event_channel)
    return LocalBus()


def build_telemetry_bus(settings: Settings) -> TelemetryBus:
    if settings.redis.configured:
        return RedisTelemetryBus(settings.redis, f"{settings.event_channel}:telemetry")
    return LocalTelemetryBus()


def build_media_store(settings: Settings) -> MediaStore:
    if settings.media_store == "s3":
        return object_store(
            bucket=settings.media_s3_bucket,
            prefix=settings.media_s3_prefix,
            endpoint_url=settings.media_s3_endpoint_url,
            region=settings.media_s3_region,
        )
    return DirectoryStore(settings.media_dir)


def ice_servers(settings: Settings) -> IceServers:
    credential = settings.ice_credential
    return IceServers(
        urls=tuple(settings.ice_servers),
        username=settings.ice_username,
        credential=credential.get_secret_value() if credential else None,
    )


def build_video(settings: Settings, observer: StreamObserver) -> VideoServer:
    """The WebRTC side; announces ICE_HOST_ADDRESSES to aioice (process-wide)."""
    announce_host_addresses(resolve_host_addresses(settings.ice_host_addresses))
    limits = VideoLimits(
        max_streams=settings.video_max_streams,
        max_viewers_per_stream=settings.video_max_viewers_per_stream,
        connect_timeout=settings.video_connect_timeout_seconds,
        media_timeout=settings.video_media_timeout_seconds,
        reconnect_grace=settings.video_reconnect_grace_seconds,
        snapshot_timeout=settings.video_snapshot_timeout_seconds,
        recording_max_seconds=settings.video_recording_max_seconds,
    )
    return VideoServer(ice=ice_servers(settings), limits=limits, observer=observer)


def _settle_heap(settings: Settings) -> asyncio.TimerHandle | None:
    """Freeze what start-up built, and once more after the warm-up (see gcpolicy.py)."""
    if not settings.gc_freeze:
        return None
    gcpolicy.settle()
    if not settings.gc_warmup_seconds:
        return None
    return asyncio.get_running_loop().call_later(settings.gc_warmup_seconds, gcpolicy.settle)


def _async(work: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        work()

    return run


def create_app(settings: Settings, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """A configured app; connections open in its lifespan, never here. `clock` drives the
    scheduler (tests pass a controllable one)."""
    clock = clock or (lambda: datetime.now(UTC))
    signing_key = settings.signing_key()  # refuse to start without SECRET_KEY
    install_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await _start_components(app, stack)
            yield

    async def _start_components(app: FastAPI, stack: AsyncExitStack) -> None:
        """Start every component of a process; each is stopped, in the reverse order, by
        the stack when the app stops (or when a later one fails to start)."""

        async def started(start: Awaitable[None], stop: Callable[[], Awaitable[None]]) -> None:
            await start
            stack.push_async_callback(stop)

        database = Database.from_settings(
            settings, info={"dispatch_policy": dispatch_policy(settings)}
        )
        stack.push_async_callback(database.dispose)
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
            on_moved=instruments.relayed,
        )
        app.state.database, app.state.bus, app.state.hub = database, bus, hub
        revocations = Revocations(
            database=database,
            poll_seconds=settings.revocation_poll_seconds,
            redis_url=settings.redis_url,
            channel=revocation_channel(settings),
        )
        app.state.revocations = revocations
        await started(revocations.start(), revocations.stop)
        app.state.demo_status = DemoStatus(database)
        limiter = (
            RedisRateLimiter(settings.redis, f"{settings.event_channel}:rate")
            if settings.redis.configured
            else MemoryRateLimiter()
        )
        app.state.limiter = limiter
        if isinstance(limiter, RedisRateLimiter):
            stack.push_async_callback(limiter.close)
        telemetry_bus, telemetry_hub = build_telemetry_bus(settings), TelemetryHub()

        pauses = gcpolicy.PauseMeter()
        pauses.install()
        stack.callback(pauses.uninstall)

        def sample_connections() -> None:
            instruments.connections(
                events=hub.connections, telemetry=telemetry_hub.watchers, queued=hub.queued
            )
            instruments.gc_paused(pauses.drain())
            instruments.rate_limits_alone(
                isinstance(limiter, RedisRateLimiter) and limiter.falling_back
            )

        app.state.sample_connections = sample_connections
        sampler = Periodic("metrics", _async(sample_connections), poll_seconds=2.0)
        video = build_video(settings, StreamEvents(database=database, telemetry=telemetry_bus))
        app.state.telemetry_bus, app.state.telemetry_hub = telemetry_bus, telemetry_hub
        app.state.video, app.state.stream_lookup = video, stream_lookup(video)
        app.state.camera_puller = puller = CameraPuller(
            video,
            idle_seconds=settings.camera_idle_seconds,
            retry_max=settings.camera_retry_max_seconds,
        )
        await started(hub.start(), hub.stop)
        await started(bus.start(hub.offer, on_reconnect=hub.nudge), bus.stop)
        await started(relay.start(), relay.stop)
        await started(telemetry_bus.start(telemetry_hub.offer), telemetry_bus.stop)
        # closing it ends every peer connection and finishes the recordings
        await started(video.start(), video.close)
        stack.push_async_callback(puller.close)  # the pulled cameras first
        scheduler = Scheduler(
            database=database, clock=clock, poll_seconds=settings.scheduler_poll_seconds
        )
        await started(scheduler.start(), scheduler.stop)
        webhooks = WebhookDeliverer(
            database=database, clock=clock, poll_seconds=settings.outbox_poll_seconds
        )
        await started(webhooks.start(), webhooks.stop)
        alerts = AlertWorker(database=database, settings=settings, clock=clock)
        await started(alerts.start(), alerts.stop)
        reports = ReportScheduler(
            database=database,
            clock=clock,
            zone=settings.zone,
            after=timedelta(hours=settings.reports_after_hours),
            issuer=settings.report_issuer,
            poll_seconds=settings.reports_poll_seconds,
        )
        if settings.reports_schedule:
            await started(reports.start(), reports.stop)
        stack.callback(instruments.process_stopped)
        await started(sampler.start(), sampler.stop)
        warmed_up = _settle_heap(settings)
        if warmed_up is not None:
            stack.callback(warmed_up.cancel)

    # FastAPIOffline: /docs and /redoc from the package's own copies of Swagger UI and
    # ReDoc, not from a CDN that a government network cannot reach.
    app = FastAPIOffline(
        docs_url=None,  # apidocs.install: Swagger UI without inline script
        title="Command Center",
        summary="Dispatch command center for integrated city enforcement",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.media = build_media_store(settings)
    app.state.intake_limits = Limits(
        resident=Limit(settings.resident_reports_per_minute, 60),
        partner_default=settings.partner_default_rate,
    )
    app.state.signing_key = signing_key
    camera_secret = settings.camera_key.get_secret_value() if settings.camera_key else None
    app.state.camera_sealer = Sealer(camera_key(configured=camera_secret, secret_key=signing_key))
    app.state.unknown_code_limit = Limit(settings.progress_unknown_codes_per_minute, 60)
    app.state.public_policy = PublicPolicy(
        channels=frozenset(settings.open311_public_channels),
        precision_m=settings.public_location_precision_m,
        partner_view=PartnerView(settings.open311_partner_view),
    )
    app.state.plausibility = Plausibility.of(
        area_margin_km=settings.position_area_margin_km,
        max_speed_kmh=settings.position_max_speed_kmh,
    )
    app.state.ice_servers = ice_servers(settings)
    app.state.sso = sso.client_of(settings)  # None while OIDC_ISSUER is unset
    _install_error_handlers(app)
    for router in (
        accounts_router,
        sso_router,
        open311_router,
        clues_router,
        residents_router,
        supervision_router,
        positions_router,
        realtime_router,
        health_router,
        telemetry_router,
        video_router,
        console_router,
        stats_router,
        reports_router,
        ogc_router,
        exports_router,
        metrics_router,
        hotspots_router,
        moderation_router,
        demo_router,
        alerts_router,
    ):
        app.include_router(router)
    install_consoles(app)
    install_api_docs(app)
    app.add_middleware(SimulationGate)  # inside the limits: a flood is refused first
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        overrides={"/api/v1/public/tips": settings.tip_max_body_bytes},
        reject=_body_too_large,
    )
    app.add_middleware(
        WebsocketCaps,
        per_address=settings.websocket_connections_per_address,
        per_token=settings.websocket_connections_per_token,
    )
    per_address = settings.address_requests_per_second
    per_device = settings.device_requests_per_second
    app.add_middleware(  # outermost: a flood is refused before anything else runs
        AddressLimit,
        limit=Limit.per_second(per_address) if per_address else None,
        device_limit=Limit.per_second(per_device) if per_device else None,
        signing_key=signing_key,
        reject=_refused,
    )
    tile_host = tiles_of(settings).img_source()
    app.add_middleware(  # outermost: every answer, refusals included, carries them
        SecurityHeaders, image_sources=[tile_host] if tile_host else []
    )
    return app


def _refused(path: str, status: int, message: str, headers: Mapping[str, str]) -> Response:
    """A refusal made before routing (size, floods): Open311's error list under /open311/."""
    if path.startswith("/open311/"):
        return open311_errors(path, status, message, dict(headers))
    code = {413: "too_large", 429: "rate_limited"}.get(status, "refused")
    return JSONResponse({"error": code, "detail": message}, status_code=status, headers=headers)


def _body_too_large(path: str, status: int, message: str) -> Response:
    return _refused(path, status, message, {})


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

    async def database_unavailable(request: Request, exc: Exception) -> Response:
        # The transaction was rolled back: nothing of the request is stored.
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
        )
        message = "the database is unavailable; nothing was stored, try again shortly"
        return _error_response(
            request, 503, "unavailable", message, {"Retry-After": str(DATABASE_RETRY_AFTER)}
        )

    for unavailable in UNAVAILABLE:
        app.add_exception_handler(unavailable, database_unavailable)

    @app.exception_handler(sa_exc.DataError)
    async def unstorable_value(request: Request, exc: sa_exc.DataError) -> Response:
        # SQLSTATE class 22 (data exception): a value of the request that PostgreSQL
        # cannot hold, such as text with a NUL character. Rolled back, nothing stored.
        first_line = str(exc.orig).splitlines()[0] if exc.orig else "invalid value"
        return _error_response(
            request, 400, "invalid_input", f"a value cannot be stored: {first_line}"
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        reference = uuid.uuid4().hex[:12]
        log.error(
            "unhandled error %s on %s %s", reference, request.method, request.url.path, exc_info=exc
        )
        return _error_response(
            request, 500, "internal_error", f"internal error; reference {reference}"
        )
