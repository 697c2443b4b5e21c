"""Shared fixtures: a migrated test database with the demo city, and live servers.

Tests talk to the real PostgreSQL/PostGIS and Redis named by DATABASE_URL and REDIS_URL
(scripts/test sets both). The database name must end in `_test`: the schema is rebuilt.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text

from command_center.auth import tokens
from command_center.auth.model import Role
from command_center.db.migrate import downgrade, upgrade
from command_center.db.session import Database
from command_center.jurisdictions import service as jurisdictions_service
from command_center.main import create_app
from command_center.matters import service as matters_service
from command_center.settings import Settings
from command_center.squads import service as squads_service

if TYPE_CHECKING:
    from tests.servers import OwnPostgres, OwnRedis

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo" / "lishui"


def _test_settings(**overrides: object) -> Settings:
    url = os.environ.get("DATABASE_URL", "")
    if not url.rsplit("/", 1)[-1].split("?")[0].endswith("_test"):
        pytest.exit(
            "DATABASE_URL must name a database ending in _test (run scripts/test)", returncode=2
        )
    values: dict[str, object] = {
        "database_url": url,
        "redis_url": os.environ.get("REDIS_URL") or None,
        "secret_key": os.environ.get("SECRET_KEY") or secrets.token_hex(32),
        "environment": "test",
        "event_channel": f"command_center:test:{os.getpid()}:{secrets.token_hex(4)}",
        "outbox_poll_seconds": 0.5,
        "resident_reports_per_minute": 1_000_000,  # tests of the limit set their own
        "reports_schedule": False,  # the scheduled-report test turns it on
        "address_requests_per_second": 0,  # likewise
        "progress_unknown_codes_per_minute": 10_000,  # tests/security/test_probe_* set theirs
        # Servers run in threads of the pytest process: freezing would freeze pytest's heap
        # (gcpolicy has its own tests; servers started as processes freeze as in production).
        "gc_freeze": False,
        "media_dir": Path(tempfile.mkdtemp(prefix="command-center-media-")),
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return _test_settings()


def _reset_schema(settings: Settings) -> None:
    """Empty the test database: migrate down to nothing (which tests the downgrades), or,
    if an earlier run left it in an unknown state, drop every table but PostGIS's own."""
    try:
        downgrade(settings.database_url, "base")
        return
    except Exception:  # a broken earlier schema; start from scratch
        pass
    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'spatial_ref_sys'"
            )
        ).scalars()
        for table in tables:
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
        conn.execute(text("DROP FUNCTION IF EXISTS events_are_append_only() CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The test database, rebuilt from the migrations, with the demo city loaded."""
    _reset_schema(settings)
    upgrade(settings.database_url)
    db = Database.from_settings(settings)
    async with db.transaction() as session:
        await jurisdictions_service.import_geojson(
            session=session, data=(DEMO / "jurisdictions.geojson").read_text("utf-8")
        )
        await matters_service.import_csv(
            session=session, text=(DEMO / "matters.csv").read_text("utf-8")
        )
        await squads_service.import_csv(
            session=session, text=(DEMO / "squads.csv").read_text("utf-8")
        )
        await matters_service.import_attributes_csv(
            session=session, text=(DEMO / "attributes.csv").read_text("utf-8")
        )
    yield db
    await db.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A real uvicorn server on loopback, running in its own thread and event loop."""

    settings: Settings
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def token(self, role: Role, **scope: str) -> str:
        return tokens.mint(key=self.settings.signing_key(), role=role, **scope)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def start_server(settings: Settings, port: int | None = None) -> LiveServer:
    """`port`: one chosen beforehand (its URL already in the settings, e.g. a redirect
    URI registered at an identity provider); a free one otherwise."""
    port = port or free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws_per_message_deflate=False,
        ws="command_center.realtime.wsprotocol:PrebuiltFrameProtocol",  # as `serve` runs
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    return LiveServer(settings, port, server, thread)


@pytest.fixture(scope="module")
def live_server(database: Database, settings: Settings) -> Iterator[LiveServer]:
    """A server per test module, with the configured bus (Redis when REDIS_URL is set).

    Per module, so that a module which starts servers of its own (another bus, say) runs
    with no other relay attached to the database.
    """
    server = start_server(settings)
    yield server
    server.stop()


@pytest.fixture
async def client(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
        yield http


@pytest.fixture(scope="session")
async def history(database: Database) -> dict[str, Any]:
    """November 2025 as the statistics tests know it (tests/stats/scenario.py), written
    once per session."""
    from tests.stats import scenario

    return await scenario.build(database)


DEMO_TEMPLATE = "demo_template"


@pytest.fixture(scope="session")
def own_postgres() -> Iterator[OwnPostgres]:
    """A PostgreSQL cluster of the test run's own, with a migrated demo-city database to
    copy (`own_postgres.copy_of(DEMO_TEMPLATE, name)`): for tests that flood the database
    or break it, away from the shared test database."""
    from tests.servers import demo_cluster

    with demo_cluster(DEMO_TEMPLATE) as cluster:
        yield cluster


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server of the test's own, on its own port: it may be stopped and started."""
    from tests.servers import OwnRedis

    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()
