"""The service under test: its own database, a `command-center serve` on loopback, tokens.

Everything goes through the `command-center` console script, as an operator would run it;
nothing here imports the service. Failures raise BenchError carrying the last lines the
command printed. The server runs in its own process group and is stopped with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import psycopg

DEFAULT_DATABASE_URL = (
    "postgresql+psycopg://command_center:command_center@127.0.0.1:5432/command_center_bench"
)
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEMO = Path(__file__).resolve().parents[1] / "demo" / "lishui"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
HEALTH_WAIT_SECONDS = 60.0
STOP_WAIT_SECONDS = 10.0
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PR_SET_PDEATHSIG = 1
T = TypeVar("T")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Disconnect\w*)\b")


class BenchError(Exception):
    """The benchmark cannot run; the message says what to fix."""


def require_loopback(url: str) -> None:
    """Refuse any URL that does not point at this machine's loopback interface."""
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise BenchError(f"{url}: the benchmark only talks to 127.0.0.1 (got host {host!r})")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on uvloop where it is installed (as the server runs): the load
    generator shares the machine with the server and should cost it little."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def service_env(*, database_url: str, redis_url: str | None) -> dict[str, str]:
    """The environment of a server the bench starts: its database, a random SECRET_KEY,
    a Redis channel of its own (so that it cannot mix events with another server on the
    same Redis) and no per-address limits (every tip comes from 127.0.0.1)."""
    require_loopback(database_url)
    env = dict(os.environ)
    env |= {
        "DATABASE_URL": database_url,
        "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_urlsafe(48),
        "EVENT_CHANNEL": f"command_center:bench:{os.getpid()}",
        "RESIDENT_REPORTS_PER_MINUTE": "100000000",
        # and the per-address flood limit of branch `faults` (ignored where it is unknown)
        "ADDRESS_REQUESTS_PER_SECOND": "0",
        # every listener and device of the load comes from 127.0.0.1 (issue 15 caps)
        "WEBSOCKET_CONNECTIONS_PER_ADDRESS": "100000",
        "WEBSOCKET_CONNECTIONS_PER_TOKEN": "100000",
        "DEVICE_REQUESTS_PER_SECOND": "0",
    }
    if redis_url:
        require_loopback(redis_url)
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


async def run_command(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> str:
    """Run a command to completion; its stdout, or BenchError with its last output lines."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await process.communicate()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        tail = "\n".join((out + err).decode(errors="replace").strip().splitlines()[-5:])
        raise BenchError(f"`{' '.join(argv[:3])} …` failed ({process.returncode}):\n{tail}")
    return out.decode()


def libpq_env(database_url: str) -> dict[str, str]:
    """This process's environment with PGHOST … PGDATABASE of `database_url`, for
    pgbench and psql."""
    parts = urlsplit(database_url)
    return {
        **os.environ,
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "",
        "PGPASSWORD": parts.password or "",
        "PGDATABASE": parts.path.lstrip("/"),
    }


async def ensure_database(database_url: str) -> None:
    """Create the database and its PostGIS extension when missing (as the postgres user)."""
    parts = urlsplit(database_url)
    name, owner = parts.path.lstrip("/"), parts.username or ""
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        async with await psycopg.AsyncConnection.connect(conninfo, connect_timeout=5) as conn:
            cursor = await conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
            if await cursor.fetchone() is not None:
                return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise BenchError(f"cannot reach the database: {exc}") from None
        if not (_IDENTIFIER.match(name) and _IDENTIFIER.match(owner)):
            raise BenchError(f"refusing to create a database named {name!r}") from None
        await _psql_as_postgres("postgres", f'CREATE DATABASE "{name}" OWNER "{owner}"')
        print(f"created database {name}", file=sys.stderr)
    await _psql_as_postgres(name, "CREATE EXTENSION IF NOT EXISTS postgis")


async def _psql_as_postgres(database: str, statement: str) -> None:
    await _as_postgres(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", statement]
    )


async def _as_postgres(argv: list[str]) -> None:
    """Run as the postgres OS user (peer authentication), from / so psql can read its cwd."""
    if os.geteuid() == 0:
        become = ["runuser", "-u", "postgres", "--"]
    else:
        become = ["sudo", "-n", "-u", "postgres", "--"]
    await run_command([*become, *argv], env=os.environ, cwd=Path("/"))


async def load_demo_city(*, env: Mapping[str, str], cwd: Path) -> None:
    """Migrate and import the Lishui demo data; every step is idempotent."""
    await run_command(["command-center", "migrate"], env=env, cwd=cwd)
    for kind, file in (
        ("jurisdictions", "jurisdictions.geojson"),
        ("matters", "matters.csv"),
        ("squads", "squads.csv"),
    ):
        await run_command(["command-center", "import", kind, str(DEMO / file)], env=env, cwd=cwd)
    await _without_duplicate_linking(env["DATABASE_URL"])


async def _without_duplicate_linking(database_url: str) -> None:
    """The bench measures dispatch: random tips that land within a matter's duplicate
    radius of an earlier one would be linked instead of dispatched, so linking is off in
    the bench's own database (and only there)."""
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute("UPDATE matters SET duplicate_radius_m = 0")
    await reset_workloads(database_url)


async def reset_workloads(database_url: str) -> None:
    """Earlier runs leave thousands of open clues per squad, which no real squad has: each
    run starts with empty workloads (only in a bench database: earlier runs' open clues
    are cancelled and their timers retired)."""
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute(
            "UPDATE clues SET state = 'cancelled' "
            "WHERE state IN ('received', 'dispatched', 'accepted', 'on_scene')"
        )
        await conn.execute(
            "UPDATE timers SET fired_at = now(), outcome = 'bench reset' WHERE fired_at IS NULL"
        )
        await conn.execute("VACUUM ANALYZE clues")  # drop the dead index entries left behind
        await conn.execute("VACUUM ANALYZE timers")


async def mint_token(*, env: Mapping[str, str], cwd: Path, squad: str | None) -> str:
    """A one-day token: a squad's when `squad` is given, else an all-seeing operator's."""
    scope = ["--role", "squad", "--squad", squad] if squad else ["--role", "operator"]
    subject = f"bench-{(squad or 'operator').lower()}"
    argv = ["command-center", "token", *scope, "--subject", subject, "--days", "1"]
    lines = (await run_command(argv, env=env, cwd=cwd)).strip().splitlines()
    if not lines:
        raise BenchError("`command-center token` printed nothing")
    return lines[-1].strip()


async def wait_healthy(
    url: str, *, timeout: float, server: ManagedServer | None = None
) -> dict[str, Any]:
    """Poll `GET /health` until it answers 200; its body. BenchError when it never does."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    async with httpx.AsyncClient(base_url=url, timeout=3.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if server is not None and server.exited():
                raise BenchError(f"the server exited during start:\n{server.log_tail()}")
            try:
                response = await client.get("/health")
                if response.status_code == 200:
                    body: dict[str, Any] = response.json()
                    return body
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.2)
    tail = f"\n{server.log_tail()}" if server is not None else ""
    raise BenchError(f"{url}/health did not answer 200 within {timeout:.0f} s ({last}){tail}")


class ManagedServer:
    """`command-center serve` on 127.0.0.1 in its own process group, logging to a file.

    `stop` sends SIGTERM to the group, then SIGKILL after STOP_WAIT_SECONDS. On Linux the
    server also gets SIGTERM if this process dies without calling `stop`.
    """

    def __init__(self, *, env: Mapping[str, str], cwd: Path, workers: int) -> None:
        self._env = dict(env)
        self._cwd = cwd
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pgid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        argv = [
            "command-center",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
        ]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                argv,
                env=self._env,
                cwd=self._cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    def exited(self) -> bool:
        return self._process is not None and self._process.poll() is not None

    async def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.strip().splitlines()[-lines:])

    def log_problems(self, limit: int = 5) -> tuple[int, list[str]]:
        """Problems the server logged (it logs at warning level): how many, the first few.

        A problem is a line that starts a message; traceback frames are left out, and so is
        the exception line a traceback ends with (it is shown, not counted).
        """
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return 0, []
        heads = [line for line in lines if line.strip() and not line.startswith((" ", "\t"))]
        messages = [line for line in heads if not line.startswith("Traceback (most recent")]
        counted = [line for line in messages if not _EXCEPTION_LINE.match(line)]
        return len(counted), list(dict.fromkeys(messages))[:limit]


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _die_with_parent() -> None:
    """In the child before exec: ask Linux for SIGTERM when the benchmark process dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
