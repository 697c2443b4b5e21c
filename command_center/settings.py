"""The one settings object, read from the environment (and `.env`) and validated at start."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from command_center.redisconn import RedisTarget

# Keys that appear in docs and examples; refusing them keeps a copy-paste out of production.
_PUBLIC_KEYS = frozenset({"change-me", "changeme", "secret", "dev", "development", "test"})
MIN_SECRET_KEY_LENGTH = 32


class ConfigurationError(RuntimeError):
    """The settings cannot run the service; the message says which variable to fix."""


class Settings(BaseSettings):
    """Configuration of one command-center process.

    Environment variables use the field names in upper case (`DATABASE_URL`, `REDIS_URL`,
    `SECRET_KEY`, ...). Nothing here connects to anything.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field(
        description="SQLAlchemy URL of the PostGIS database, postgresql+psycopg://user:pw@host/db",
    )
    database_listen_url: str | None = Field(
        default=None,
        description="Where the relay holds its LISTEN session, when DATABASE_URL goes "
        "through a transaction-mode pooler (pgbouncer) that cannot carry LISTEN: the "
        "database itself, same form as DATABASE_URL (several hosts allowed). Unset: "
        "DATABASE_URL.",
    )
    database_prepared_statements: bool = Field(
        default=True,
        description="Let psycopg prepare statements it runs often. Turn off behind "
        "pgbouncer in transaction mode before 1.21 (it cannot keep them per client).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for fan-out between processes; unset means an in-process bus "
        "(one process only).",
    )
    redis_sentinels: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Redis Sentinel addresses, comma-separated host:port; when set, every "
        "Redis client asks them for the primary of REDIS_SENTINEL_MASTER (REDIS_URL is "
        "then not needed) and follows it through a failover.",
    )
    redis_sentinel_master: str = Field(
        default="mymaster",
        min_length=1,
        description="The name the sentinels monitor the Redis primary under.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs bearer tokens; at least 32 random characters. `serve` and `token` "
        "refuse to run without it, and ENVIRONMENT=production refuses to start without it.",
    )
    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description="Where this runs; `production` refuses to start without SECRET_KEY.",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Time zone of the times shown to people and of local days and deadlines "
        "(storage is UTC).",
    )
    event_channel: str = Field(
        default="",
        description="Redis pub/sub channel for events (and the prefix of the telemetry "
        "channel and rate-limit keys); empty means command_center:events:<database name>, "
        "so that deployments sharing one Redis never receive each other's events.",
    )
    db_pool_size: int = Field(
        default=10, ge=1, le=200, description="SQLAlchemy connection pool size per process."
    )
    db_max_overflow: int = Field(
        default=10, ge=0, le=200, description="Connections the pool may open beyond its size."
    )
    outbox_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="Relay and catch-up interval when nothing wakes them."
    )
    websocket_queue_size: int = Field(
        default=2000,
        ge=10,
        description="Events buffered per websocket before a slow client is dropped (1013).",
    )
    token_ttl_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Default validity of a token minted by `command-center token` (days); "
        "capped by TOKEN_MAX_DAYS_DEVICE.",
    )
    token_max_days_person: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Longest validity of a personal access token (days).",
    )
    token_max_days_device: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Longest validity of a device or kiosk (wall-screen) token (days).",
    )
    legacy_tokens_until: datetime | None = Field(
        default=None,
        description="Tokens of the release before accounts carry no record: they are "
        "refused unless this moment (ISO 8601) lies ahead, to give a deployment time to "
        "re-issue them. Unset: refused at once.",
    )
    session_idle_minutes: float = Field(
        default=30, gt=0, le=1440, description="A signed-in session ends after this idle time."
    )
    session_idle_minutes_squad: float = Field(
        default=30,
        gt=0,
        le=1440,
        description="Idle time of a squad member's session (a squad phone may be given a "
        "shift, e.g. 600).",
    )
    session_absolute_hours: float = Field(
        default=12,
        gt=0,
        le=168,
        description="A session ends this long after sign-in, in use or not.",
    )
    session_cookie_secure: Literal["auto", "always"] = Field(
        default="auto",
        description="`auto`: the session cookie is Secure when the request came over HTTPS "
        "(as the proxy reports it); `always`: Secure on every answer.",
    )
    login_max_failures: int = Field(
        default=5, ge=1, le=100, description="Failed sign-ins per login before it is locked."
    )
    login_max_failures_address: int = Field(
        default=20,
        ge=1,
        le=10000,
        description="Failed sign-ins from one address before it is locked.",
    )
    login_failure_window_minutes: float = Field(
        default=15, gt=0, le=1440, description="Window in which failed sign-ins are counted."
    )
    login_lock_minutes: float = Field(
        default=15, gt=0, le=1440, description="How long a lock (429 + Retry-After) lasts."
    )
    password_min_length: int = Field(
        default=8, ge=6, le=128, description="Shortest password an account may set."
    )
    password_min_classes: int = Field(
        default=3,
        ge=1,
        le=4,
        description="Character classes (lower, upper, digit, other) a password must mix.",
    )
    totp_required_roles: Annotated[list[str], NoDecode] = Field(
        default=["admin", "security_admin", "auditor"],
        description="Roles that must sign in with a second factor (TOTP), comma-separated; "
        "`*` for every role (等保 level 3 read strictly).",
    )
    totp_key: SecretStr | None = Field(
        default=None,
        description="Key material (at least 32 random characters) from which the AES-GCM key "
        "sealing TOTP secrets at rest is derived (HKDF); unset: derived from SECRET_KEY.",
    )
    totp_key_previous: Annotated[list[SecretStr], NoDecode] = Field(
        default=[],
        description="Earlier TOTP_KEY (or SECRET_KEY) values, comma-separated, still opening "
        "secrets sealed before a rotation until `command-center user rekey-totp` reseals them.",
    )
    password_max_age_days: int = Field(
        default=90,
        ge=0,
        le=3650,
        description="Days after which a password must be changed at the next sign-in "
        "(定期更换); 0: passwords do not age.",
    )
    revocation_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=10,
        description="How often each process re-reads revoked tokens, ended sessions and "
        "disabled accounts from PostgreSQL (Redis, when set, tells it sooner).",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="Single sign-on: the OpenID Connect issuer (the provincial identity "
        "platform, Keycloak, ...); its /.well-known/openid-configuration is read. Unset: "
        "no single sign-on. https:// unless the host is loopback.",
    )
    oidc_client_id: str = Field(
        default="", description="Single sign-on: this service's client id at the issuer."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="Single sign-on: the client secret (client_secret_basic); unset for a "
        "public client, which PKCE alone protects.",
    )
    oidc_account_claim: str = Field(
        default="officer_number",
        min_length=1,
        max_length=100,
        description="Single sign-on: the ID-token claim (UserInfo when the token lacks it) "
        "whose value names the account, e.g. officer_number (执法证号) or preferred_username.",
    )
    oidc_account_field: Literal["officer_number", "login"] = Field(
        default="officer_number",
        description="Single sign-on: the account field that the claim's value must equal.",
    )
    oidc_scopes: Annotated[list[str], NoDecode] = Field(
        default=["openid", "profile"],
        description="Single sign-on: scopes asked for (comma- or space-separated; openid "
        "is always among them).",
    )
    oidc_create_accounts: bool = Field(
        default=False,
        description="Single sign-on: create an account (OIDC_CREATED_ROLE) for a claim value "
        "that matches none. Off: only existing active accounts sign on.",
    )
    oidc_created_role: Literal["grid_worker", "operator", "supervisor"] = Field(
        default="grid_worker",
        description="Single sign-on: the role of an account created by a sign-on "
        "(OIDC_CREATE_ACCOUNTS); an administrator widens it afterwards.",
    )
    oidc_created_jurisdiction: str | None = Field(
        default=None,
        description="Single sign-on: the jurisdiction code of an account created by a "
        "sign-on; unset: none.",
    )
    oidc_second_factor_amr: Annotated[list[str], NoDecode] = Field(
        default=["mfa", "otp", "hwk", "sc", "swk"],
        description="Single sign-on: `amr` values (RFC 8176) of the ID token that show the "
        "issuer checked a second factor; an account whose role needs two factors signs on "
        "only with one of them (comma-separated).",
    )
    media_store: Literal["directory", "s3"] = Field(
        default="directory",
        description="Where evidence files live: `directory` (MEDIA_DIR on this host) or "
        "`s3`, an S3-compatible bucket (MEDIA_S3_BUCKET) that every host shares.",
    )
    media_s3_bucket: str = Field(default="", description="The bucket, with MEDIA_STORE=s3.")
    media_s3_prefix: str = Field(
        default="", description="Key prefix inside the bucket (several deployments share one)."
    )
    media_s3_endpoint_url: str | None = Field(
        default=None,
        description="The object store's URL (MinIO, Ceph RGW, a government cloud); unset "
        "means AWS. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.",
    )
    media_s3_region: str = Field(default="us-east-1", description="The bucket's region.")
    media_dir: Path = Field(
        default=Path("var/media"),
        description="Directory for evidence files (photos, snapshots), stored by hash.",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where people reach this service; used in QR codes and Open311 discovery.",
    )
    open311_contact: str = Field(
        default="综合行政执法指挥中心 12345", description="Open311 discovery contact."
    )
    open311_key_service: str = Field(
        default="Ask the command center for an api_key (command-center apikey create).",
        description="Open311 discovery: how partners get a key.",
    )
    resident_reports_per_minute: int = Field(
        default=10,
        ge=1,
        description="Tips per minute per device and per client address, without an api_key.",
    )
    partner_default_rate: float = Field(
        default=50.0, ge=0, description="Requests/s of an api_key created without --rate."
    )
    photo_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest photo accepted in a tip."
    )
    photo_max_count: int = Field(default=6, ge=0, le=20, description="Photos per tip.")
    tip_max_body_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Largest tip request, photos included."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body, except tips."
    )
    dispatch_weight_distance_per_km: float = Field(
        default=1.0, ge=0, description="Ranking: score per km from the squad's position."
    )
    dispatch_weight_per_open_clue: float = Field(
        default=2.0, ge=0, description="Ranking: score per clue the squad has open."
    )
    dispatch_weight_domain_mismatch: float = Field(
        default=5.0,
        ge=0,
        description="Ranking: score added when the squad lists domains and not the matter's.",
    )
    position_max_age_seconds: float = Field(
        default=600.0, gt=0, description="Older device positions fall back to the squad's base."
    )
    scheduler_poll_seconds: float = Field(
        default=5.0, gt=0, le=300, description="How often due timers are looked for."
    )
    public_code_prefix: str = Field(
        default="",
        max_length=8,
        pattern=r"^[A-Z0-9]*$",
        description="Upper-case letters and digits put before public codes.",
    )

    # --- live video (WHIP/WHEP) and telemetry ------------------------------------------
    ice_host_addresses: Annotated[list[str], NoDecode] = Field(
        default=["auto"],
        description="Host candidate addresses announced to WebRTC peers, comma-separated IP "
        "literals; `auto` is this machine's non-loopback addresses (127.0.0.1 when it has "
        "none). Example: `192.168.10.5,127.0.0.1`.",
    )
    ice_servers: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="STUN/TURN server URLs, comma-separated (stun:host:3478, "
        "turn:host:3478?transport=udp); aiortc uses the first of each kind. Empty means "
        "host candidates only: no public STUN server is ever contacted.",
    )
    ice_username: str | None = Field(
        default=None, description="TURN user name, also sent to WHIP/WHEP clients in `Link`."
    )
    ice_credential: SecretStr | None = Field(
        default=None, description="TURN password, also sent to WHIP/WHEP clients in `Link`."
    )
    recordings_dir: Path = Field(
        default=Path("var/recordings"), description="Directory for stream recordings."
    )
    video_max_streams: int = Field(
        default=32, ge=1, le=1000, description="Streams one process carries (503 beyond)."
    )
    video_max_viewers_per_stream: int = Field(
        default=8, ge=1, le=100, description="Viewers per stream (503 beyond)."
    )
    video_connect_timeout_seconds: float = Field(
        default=15.0, gt=0, le=120, description="A session not connected by then is closed."
    )
    video_media_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="A publisher silent this long has dropped."
    )
    video_reconnect_grace_seconds: float = Field(
        default=30.0, ge=0, le=3600, description="How long viewers wait for a dropped feed."
    )
    video_snapshot_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="How long a snapshot waits for a keyframe (503)."
    )
    video_recording_max_seconds: float = Field(
        default=3600.0, gt=0, le=86400, description="A recording stops by itself after this."
    )
    rtmp_read_url: str = Field(
        default="rtmp://127.0.0.1:1935/live",
        pattern=r"^rtmp://[^/?#]+/[A-Za-z0-9_-]+$",
        description="Where this service reads RTMP pushes back from nginx (its loopback "
        "address, port and application); `command-center rtmp-config` writes nginx's side.",
    )
    rtmp_service_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^http://[^/?#]+$",
        description="This service as nginx's RTMP callbacks reach it (`rtmp-config`'s "
        "default `--service-url`); plain http, which is all nginx's RTMP module speaks.",
    )

    camera_key: SecretStr | None = Field(
        default=None,
        description="Encrypts fixed cameras' RTSP credentials at rest (AES-256-GCM): 64 hex "
        "characters. Unset: derived from SECRET_KEY (changing SECRET_KEY then makes stored "
        "camera passwords unreadable; register the cameras again).",
        pattern=r"^[0-9a-fA-F]{64}$",
    )
    camera_idle_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="A camera nobody needs this long is let go."
    )
    camera_retry_max_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="The longest wait between attempts to reach "
        "a camera (the waits double from 1 s).",
    )

    # --- consoles: the base map ----------------------------------------------------------
    map_tile_url: str = Field(
        default="",
        description="Base map tiles, an XYZ URL template with {z}, {x}, {y} or {-y} (and {s} for "
        "MAP_TILE_SUBDOMAINS): a city's own tile server or an online provider. Empty (the "
        "default) draws no tiles: the jurisdictions are the base, and no page asks any "
        "other host for anything.",
    )
    map_tile_crs: Literal["wgs84", "gcj02"] = Field(
        default="wgs84",
        description="Datum of the tiles: gcj02 for Chinese providers (AMap, Tencent); every "
        "overlay is then shifted into GCJ-02 for display.",
    )
    map_tile_attribution: str = Field(
        default="", max_length=500, description="Attribution shown on the map for the tiles."
    )
    map_tile_subdomains: str = Field(
        default="abc", max_length=20, pattern=r"^[A-Za-z0-9]*$", description="Values of {s}."
    )
    map_tile_max_zoom: int = Field(
        default=18, ge=1, le=22, description="Deepest zoom the base map offers."
    )

    # --- analytics, reports, metrics ----------------------------------------------------
    report_issuer: str = Field(
        default="综合行政执法指挥中心",
        min_length=1,
        max_length=60,
        description="The issuing body printed at the head of reports and documents.",
    )
    reports_schedule: bool = Field(
        default=True, description="Generate and store each week's and month's report."
    )
    reports_after_hours: float = Field(
        default=8.0,
        ge=0,
        le=240,
        description="Hours after a week or month ends before its report is generated.",
    )
    reports_poll_seconds: float = Field(
        default=300.0, gt=0, le=86400, description="How often due reports are looked for."
    )
    hotspot_h3_resolution: int = Field(
        default=9, ge=4, le=12, description="H3 cells of hot spots where no grid is loaded."
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="If set, /metrics needs `Authorization: Bearer <it>`."
    )

    # --- hostile input and floods (issue #8) ----------------------------------------------
    address_requests_per_second: float = Field(
        default=100.0,
        ge=0,
        description="HTTP requests per second one client address may make without a valid "
        "bearer token, per process; 0 turns the limit off.",
    )
    websocket_max_message_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        description="Largest websocket message a client may send (larger: closed with 1009).",
    )
    gc_freeze: bool = Field(
        default=True,
        description="Freeze the objects of start-up (and again after GC_WARMUP_SECONDS) "
        "so that the garbage collector's full runs skip them: short pauses of the event "
        "loop (see gcpolicy.py).",
    )
    gc_warmup_seconds: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        description="Seconds after start-up to freeze once more; 0 freezes only at start.",
    )
    websocket_ping_seconds: float = Field(
        default=20.0,
        ge=1,
        le=300,
        description="The server pings every websocket this often and closes one whose pong "
        "has not come within as long again (a dead or non-reading client).",
    )

    # --- what an outside probe found (issue #15; docs/security-findings.md) ------------
    forwarded_allow_ips: str = Field(
        default="",
        description="Addresses of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed, comma-separated IPs or networks (`127.0.0.1`, "
        "`10.0.0.0/8`); `*` trusts every peer. Empty (the default) trusts none: the client "
        "address is the TCP peer's, so that no caller can name itself to escape a limit.",
    )
    position_area_margin_km: float = Field(
        default=20.0,
        ge=0,
        le=1000,
        description="A device position farther than this outside every jurisdiction is "
        "recorded as suspect: never used for dispatch nor shown as live.",
    )
    position_max_speed_kmh: float = Field(
        default=180.0,
        gt=0,
        le=2000,
        description="A device position that could only be reached from its last believed "
        "one faster than this is recorded as suspect (jumps under 500 m are GPS noise).",
    )
    open311_public_channels: Annotated[
        list[Literal["open311", "miniprogram", "grid", "hotline", "iot", "video"]], NoDecode
    ] = Field(
        default=["open311", "miniprogram"],
        description="Channels whose clues the anonymous Open311 list and detail show, "
        "comma-separated: by default the residents' own (Open311 and the mini-program); "
        "grid workers' reports, hotline tickets, sensors and cameras stay internal.",
    )
    public_location_precision_m: float = Field(
        default=100.0,
        ge=0,
        le=10_000,
        description="Positions shown to anonymous callers are snapped to a grid of about "
        "this many metres (0: exact).",
    )
    open311_partner_view: Literal["public", "exact_positions", "full"] = Field(
        default="public",
        description="What a GET with a valid api_key sees: `public` the same as anyone; "
        "`exact_positions` the public view with unrounded positions; `full` every channel, "
        "descriptions as typed and exact positions.",
    )
    progress_unknown_codes_per_minute: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="Lookups of progress codes no tip has, per client address and minute; "
        "past it the progress view answers 429 with Retry-After.",
    )
    device_requests_per_second: float = Field(
        default=20.0,
        ge=0,
        description="HTTP requests per second one device token may make (its own budget, "
        "per process; staff tokens are not counted); 0 turns the limit off.",
    )
    websocket_connections_per_address: int = Field(
        default=100,
        ge=1,
        le=1_000_000,
        description="Open websockets one client address may hold per process; past it a "
        "socket is closed with code 4429.",
    )
    websocket_connections_per_token: int = Field(
        default=10,
        ge=1,
        le=1_000_000,
        description="Open websockets one token may hold per process; past it a socket is "
        "closed with code 4429.",
    )
    # --- alerts: SMS over CMPP, DingTalk, WeCom (docs/notifications.md) -----------------
    sms_cmpp_host: str | None = Field(
        default=None,
        description="Host of the CMPP 2.0 SMS gateway (ISMG); SMS is off while this, "
        "SMS_CMPP_SP_ID, SMS_CMPP_SECRET or SMS_CMPP_SRC_ID is unset.",
    )
    sms_cmpp_port: int = Field(
        default=7890, ge=1, le=65535, description="Port of the CMPP gateway (long connection)."
    )
    sms_cmpp_sp_id: str | None = Field(
        default=None,
        max_length=6,
        description="The SP's enterprise code (Source_Addr, 6 characters) at the gateway.",
    )
    sms_cmpp_secret: SecretStr | None = Field(
        default=None, description="The shared secret the gateway gave the SP (for CMPP_CONNECT)."
    )
    sms_cmpp_src_id: str | None = Field(
        default=None,
        max_length=21,
        description="The number texts come from (Src_Id: the SP's access code, e.g. 106…).",
    )
    sms_cmpp_service_id: str = Field(
        default="", max_length=10, description="Service_Id of the SP's business at the gateway."
    )
    sms_signature: str = Field(
        default="【城管执法】",
        max_length=20,
        description="The 【signature】 every text begins with, as registered for the SP.",
    )
    dingtalk_api_base: str = Field(
        default="https://oapi.dingtalk.com",
        description="DingTalk's server API (or a 浙政钉 / private deployment's gateway).",
    )
    dingtalk_app_key: str | None = Field(
        default=None,
        description="AppKey of the internal DingTalk app; DingTalk is off while this, "
        "DINGTALK_APP_SECRET or DINGTALK_AGENT_ID is unset.",
    )
    dingtalk_app_secret: SecretStr | None = Field(
        default=None, description="AppSecret of the DingTalk app."
    )
    dingtalk_agent_id: int | None = Field(
        default=None, description="AgentId of the DingTalk app that sends work notifications."
    )
    wecom_api_base: str = Field(
        default="https://qyapi.weixin.qq.com",
        description="WeCom's server API (or a private deployment's gateway).",
    )
    wecom_corp_id: str | None = Field(
        default=None,
        description="The WeCom corp id; WeCom is off while this, WECOM_CORP_SECRET or "
        "WECOM_AGENT_ID is unset.",
    )
    wecom_corp_secret: SecretStr | None = Field(
        default=None, description="The Secret of the WeCom application that sends."
    )
    wecom_agent_id: int | None = Field(
        default=None, description="AgentId of the WeCom application that sends."
    )
    alert_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often alerts are planned from new events and due ones sent.",
    )
    alert_escalate_after_seconds: int = Field(
        default=120,
        ge=0,
        le=86_400,
        description="A dispatched clue not accepted after this long alerts the squad's "
        "members again on their second channel; 0: never.",
    )
    alert_max_tries: int = Field(
        default=5,
        ge=1,
        le=50,
        description="Tries of one alert (with back-off) before it is recorded as failed and "
        "raised as a warning.",
    )
    reporter_sms_per_day: int = Field(
        default=3,
        ge=0,
        le=50,
        description="Texts one reporter's number gets per local day at most (registered, "
        "handled, closed); past it an alert is recorded as skipped.",
    )
    reporter_quiet_hours: str = Field(
        default="",
        description="Local hours (HH:MM-HH:MM, may span midnight) when reporters are not "
        "texted; a text due then waits for the end. Empty: none.",
    )

    @field_validator(
        "ice_host_addresses",
        "ice_servers",
        "totp_required_roles",
        "totp_key_previous",
        "oidc_second_factor_amr",
        "open311_public_channels",
        "redis_sentinels",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("totp_required_roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        known = {"operator", "squad", "grid_worker", "supervisor", "admin"}
        known |= {"security_admin", "auditor", "*"}
        unknown = [role for role in value if role not in known]
        if unknown:
            raise ValueError(f"TOTP_REQUIRED_ROLES names unknown roles: {', '.join(unknown)}")
        return value

    @field_validator("ice_host_addresses")
    @classmethod
    def _ip_literals(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry != "auto":
                try:
                    ipaddress.ip_address(entry)
                except ValueError:
                    raise ValueError(f"{entry!r} is neither `auto` nor an IP address") from None
        return value

    @field_validator("ice_servers")
    @classmethod
    def _ice_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
                raise ValueError(f"{url!r} must start with stun:, stuns:, turn: or turns:")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        entries = [part.strip() for part in value.split(",") if part.strip()]
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is neither `*` nor an IP address or network") from None
        return ",".join(entries)

    @field_validator("map_tile_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        if not value.startswith(("http://", "https://", "/")):
            raise ValueError("MAP_TILE_URL must start with http://, https:// or / (this server)")
        missing = [p for p in ("{z}", "{x}") if p not in value]
        if "{y}" not in value and "{-y}" not in value:
            missing.append("{y}")
        if missing:
            raise ValueError(f"MAP_TILE_URL lacks {', '.join(missing)}")
        return value

    @field_validator("database_url", "database_listen_url")
    @classmethod
    def _psycopg_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not value.startswith("postgresql+psycopg://"):
            name = (info.field_name or "database_url").upper()
            raise ValueError(f"{name} must start with postgresql+psycopg://")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("PUBLIC_BASE_URL must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _bucket_named(self) -> Settings:
        if self.media_store == "s3" and not self.media_s3_bucket:
            raise ValueError("MEDIA_STORE=s3 needs MEDIA_S3_BUCKET")
        return self

    @field_validator("redis_sentinels")
    @classmethod
    def _host_ports(cls, value: list[str]) -> list[str]:
        for entry in value:
            host, _, port = entry.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"REDIS_SENTINELS: {entry!r} is not host:port")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("REDIS_URL must start with redis://, rediss:// or unix://")
        return value

    @field_validator("oidc_scopes", mode="before")
    @classmethod
    def _scope_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if isinstance(value, list) and "openid" not in value:
            value = ["openid", *value]
        return value

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        parts = urlsplit(value)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValueError("OIDC_ISSUER must be an https:// URL (http:// only on loopback)")
        if parts.query or parts.fragment:
            raise ValueError("OIDC_ISSUER has no query or fragment")
        return value  # as given: the issuer of the discovery document must equal it

    @model_validator(mode="after")
    def _sso_needs_client(self) -> Settings:
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("OIDC_CLIENT_ID is required when OIDC_ISSUER is set")
        return self

    @field_validator("reporter_quiet_hours")
    @classmethod
    def _quiet_window(cls, value: str) -> str:
        from command_center.alerts.model import QuietHours

        QuietHours.parse(value)  # ValueError names what is wrong
        return value.strip()

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None
        raw = value.get_secret_value()
        if raw.lower() in _PUBLIC_KEYS or len(raw) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters"
            )
        return value

    @field_validator("totp_key")
    @classmethod
    def _strong_totp_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None
        if len(value.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(f"TOTP_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _production_needs_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key is None:
            raise ValueError("SECRET_KEY is required when ENVIRONMENT=production")
        return self

    @model_validator(mode="before")
    @classmethod
    def _channel_of_this_database(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("event_channel") and data.get("database_url"):
            database = urlsplit(str(data["database_url"])).path.lstrip("/") or "default"
            data = {**data, "event_channel": f"command_center:events:{database}"}
        return data

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def redis(self) -> RedisTarget:
        """Where this process's Redis clients connect (REDIS_URL or the sentinels)."""
        sentinels = tuple(
            (host, int(port)) for host, _, port in (s.rpartition(":") for s in self.redis_sentinels)
        )
        return RedisTarget(self.redis_url, sentinels, self.redis_sentinel_master)

    @property
    def psycopg_conninfo(self) -> str:
        """DATABASE_LISTEN_URL (else DATABASE_URL) as libpq conninfo, for the relay's
        LISTEN session. Several hosts (`?host=a:5432&host=b:5432`, SQLAlchemy's form)
        become libpq's `host=a,b port=5432,5432`, with target_session_attrs kept."""
        from psycopg.conninfo import make_conninfo
        from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
        from sqlalchemy.engine import make_url

        url = make_url(self.database_listen_url or self.database_url)
        _, params = PGDialect_psycopg().create_connect_args(url)  # type: ignore[no-untyped-call]
        return make_conninfo("", **params)

    def signing_key(self) -> str:
        """The token-signing key; raises ConfigurationError when SECRET_KEY is unset."""
        if self.secret_key is None:
            raise ConfigurationError(
                "SECRET_KEY is not set: put a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters in the environment or .env"
            )
        return self.secret_key.get_secret_value()

    def totp_key_materials(self) -> tuple[str, list[str]] | None:
        """(current, previous) key materials sealing TOTP secrets; None without any key."""
        current = self.totp_key or self.secret_key
        if current is None:
            return None
        return current.get_secret_value(), [k.get_secret_value() for k in self.totp_key_previous]


def load_settings() -> Settings:
    """Read settings from the environment; raise ConfigurationError naming what is wrong."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None
