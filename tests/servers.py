"""Servers a test owns, and may therefore break: its own Redis, its own PostgreSQL cluster
and `command-center serve` as a subprocess. Never the machine's shared ones.

Each start waits until the server answers and each stop is bounded in time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import redis

from tests.conftest import DEMO, free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ROLE, PASSWORD = "command_center", "command_center"


class OwnRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/test installs it)"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], what: str, log: Callable[[], str]
) -> None:
    """Until something accepts connections on 127.0.0.1:`port`; RuntimeError with the
    end of `log()` if `process` exits first or 10 s pass."""
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{what} did not start: {log()[-2000:]}") from None
            time.sleep(0.05)


def _as_postgres(argv: list[str], *, timeout: float = 60) -> str:
    """Run a PostgreSQL binary as the postgres OS user (it refuses to run as root)."""
    become = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run(
        [*become, *argv], capture_output=True, text=True, cwd="/", timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


class OwnPostgres:
    """A throw-away PostgreSQL 15 cluster (initdb in a temporary directory, a free port on
    127.0.0.1). PostGIS is installed system-wide, so `CREATE EXTENSION postgis` works.

    fsync is off: a test kills the server process, never the machine, so what PostgreSQL
    has written is in the operating system's cache; commits stay synchronous.
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="command-center-pg-"))
        self.data, self.sockets = self.root / "data", self.root / "sockets"
        self.sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sockets, "postgres")
        self.port = free_port()

    def init(self) -> None:
        _as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        self.start()
        self.psql("postgres", f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")

    def start(self, extra_options: str = "") -> None:
        """Start the server; `extra_options` are more `-c name=value` for this start."""
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c full_page_writes=off -c shared_buffers=32MB -c max_connections=200 {extra_options}"
        )
        _as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast` closes every session; `immediate` kills the server as a crash would."""
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def psql(self, database: str, sql: str) -> str:
        return _as_postgres(
            [
                str(PG_BIN / "psql"),
                "-X",
                "-q",
                "-tA",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.sockets),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ]
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{ROLE}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str) -> str:
        return self.url(database).replace("postgresql+psycopg://", "postgresql://", 1)

    def create_demo_template(self, name: str) -> None:
        """A database with the migrations and the demo city, for `CREATE ... TEMPLATE`."""
        self.psql("postgres", f"CREATE DATABASE {name} OWNER {ROLE}")
        self.psql(name, "CREATE EXTENSION postgis")
        load_demo_city(self.url(name))

    def copy_of(self, template: str, name: str) -> str:
        """A new database copied from `template`; its SQLAlchemy URL."""
        self.psql("postgres", f"CREATE DATABASE {name} TEMPLATE {template} OWNER {ROLE}")
        return self.url(name)

    def connect(self, database: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.conninfo(database), autocommit=True, connect_timeout=5)

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):  # not running
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def load_demo_city(database_url: str) -> None:
    """Migrate the database at `database_url` and import the demo city into it."""
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [sys.executable, "-m", "command_center"]
    steps = [["migrate"]] + [
        ["import", kind, str(DEMO / file)]
        for kind, file in (
            ("jurisdictions", "jurisdictions.geojson"),
            ("matters", "matters.csv"),
            ("squads", "squads.csv"),
            ("attributes", "attributes.csv"),
        )
    ]
    for step in steps:
        subprocess.run([*command, *step], env=env, check=True, capture_output=True, timeout=120)


@contextlib.contextmanager
def demo_cluster(template: str) -> Iterator[OwnPostgres]:
    """An OwnPostgres, running, with `template` holding the migrated demo city; removed
    (server stopped, files deleted) on the way out."""
    cluster = OwnPostgres()
    try:
        cluster.init()
        cluster.create_demo_template(template)
        yield cluster
    finally:
        cluster.remove()


class Serve:
    """`command-center serve --workers N` in a process group of its own, its log (stderr,
    access log included) in a file the test can search."""

    def __init__(self, env: dict[str, str], *, workers: int, log: Path) -> None:
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, *, timeout: float = 40) -> None:
        argv = [sys.executable, "-m", "command_center", "serve", "--port", str(self.port)]
        argv += ["--workers", str(self.workers), "--log-level", "info"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                env=self.env,
                cwd="/",
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not self._healthy():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"server did not start; see {self.log}")
            time.sleep(0.2)
        while len(self.worker_pids()) < self.workers and time.monotonic() < deadline:
            time.sleep(0.2)

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def worker_pids(self) -> list[int]:
        """The worker processes under uvicorn's supervisor (itself when --workers 1)."""
        assert self.process is not None
        if self.workers == 1:
            return [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = [int(p) for p in children.read_text().split()]
        except FileNotFoundError:
            return []
        return [pid for pid in pids if _is_worker(pid)]

    def log_text(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.process = None


def _is_worker(pid: int) -> bool:
    """uvicorn's multiprocessing also starts a resource tracker; workers run the app."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    return b"resource_tracker" not in cmdline
