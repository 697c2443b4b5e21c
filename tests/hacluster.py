"""A PostgreSQL 15 cluster with automatic failover, on loopback under a temporary folder:
one etcd member (Debian's `etcd-server`) and two Patroni nodes (Debian's `patroni`) with
synchronous replication. Used by the fault tests and by `scripts/ha-cluster`
(`python -m tests.hacluster up`), which starts one for a person to try.

Every process is started here, runs as the `postgres` OS user where PostgreSQL needs it,
and is stopped by its PID. Patroni's timing is shortened (TIMING) so that a test sees a
failover in about 10 s; Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10) take
30–40 s after a primary dies without a word.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.conftest import free_port
from tests.servers import PASSWORD, PG_BIN, ROLE, load_demo_city

SUPERUSER_PASSWORD = "patroni-superuser"
REPLICATION_PASSWORD = "patroni-replication"
PATRONI_DEFAULTS = {"ttl": 30, "loop_wait": 10, "retry_timeout": 10}
# loop_wait + 2 × retry_timeout ≤ ttl; CC_PATRONI_TIMING=defaults measures Patroni's own
TIMING = (
    PATRONI_DEFAULTS
    if os.environ.get("CC_PATRONI_TIMING") == "defaults"
    else {"ttl": 10, "loop_wait": 1, "retry_timeout": 4}
)


def _as_postgres() -> dict[str, Any]:
    """Popen arguments that run the child as the postgres OS user when we are root."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            found = check()
            if found:
                return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(0.2)


@dataclass
class Etcd:
    root: Path
    client_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    def start(self) -> None:
        binary = shutil.which("etcd")
        assert binary, "etcd is not installed (scripts/test installs etcd-server)"
        peer, client = f"http://127.0.0.1:{self.peer_port}", f"http://{self.endpoint}"
        argv = [
            binary,
            *("--name", "e0", "--data-dir", str(self.root / "etcd")),
            *("--listen-client-urls", client, "--advertise-client-urls", client),
            *("--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer),
            *("--initial-cluster", f"e0={peer}", "--initial-cluster-state", "new"),
        ]
        with (self.root / "etcd.log").open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        _wait(lambda: _get_json(f"{client}/health").get("health") == "true", 20, "etcd up")

    def stop(self) -> None:
        _stop(self.process)
        self.process = None


@dataclass
class PatroniNode:
    name: str
    root: Path
    etcd: Etcd
    pg_port: int = field(default_factory=free_port)
    rest_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.root / self.name

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    def config(self, scope: str, strict: bool) -> dict[str, Any]:
        sockets = self.root / f"{self.name}-sockets"
        sockets.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(sockets, "postgres", "postgres")
        return {
            "scope": scope,
            "name": self.name,
            "log": {"level": "WARNING"},
            "restapi": {
                "listen": f"127.0.0.1:{self.rest_port}",
                "connect_address": f"127.0.0.1:{self.rest_port}",
            },
            "etcd3": {"hosts": [self.etcd.endpoint]},
            "bootstrap": {
                "dcs": {
                    **TIMING,
                    "maximum_lag_on_failover": 1048576,
                    "synchronous_mode": True,
                    "synchronous_mode_strict": strict,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "parameters": {
                            "max_connections": 200,
                            "max_wal_senders": 10,
                            "wal_level": "replica",
                            "hot_standby": "on",
                            "wal_log_hints": "on",
                            "shared_buffers": "32MB",
                            # a test kills processes, never the machine (see OwnPostgres)
                            "fsync": "off",
                            "full_page_writes": "off",
                        },
                    },
                },
                "initdb": [
                    {"encoding": "UTF8"},
                    {"locale": "C.UTF-8"},
                    {"auth-host": "scram-sha-256"},
                    {"auth-local": "trust"},
                ],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{self.pg_port}",
                "connect_address": f"127.0.0.1:{self.pg_port}",
                "data_dir": str(self.data),
                "bin_dir": str(PG_BIN),
                "pgpass": str(self.root / f"{self.name}.pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres", "password": SUPERUSER_PASSWORD},
                    "replication": {"username": "replicator", "password": REPLICATION_PASSWORD},
                    "rewind": {"username": "postgres", "password": SUPERUSER_PASSWORD},
                },
                "parameters": {"unix_socket_directories": str(sockets)},
                # a new replica's pg_basebackup asks for an immediate checkpoint, not a
                # spread one (minutes after loading data)
                "basebackup": [{"checkpoint": "fast"}],
                "pg_hba": [
                    "local all all trust",
                    "host replication replicator 127.0.0.1/32 scram-sha-256",
                    "host all all 127.0.0.1/32 scram-sha-256",
                ],
            },
        }

    def start(self, scope: str, strict: bool) -> None:
        binary = shutil.which("patroni")
        assert binary, "patroni is not installed (scripts/test installs it)"
        path = self.root / f"{self.name}.yml"
        path.write_text(json.dumps(self.config(scope, strict), indent=1), "utf-8")  # YAML ⊃ JSON
        with (self.root / f"{self.name}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [binary, str(path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env={**os.environ, "HOME": str(self.root)},
                **_as_postgres(),
            )

    def role(self) -> str | None:
        """`primary`, `replica` or None (Patroni's REST API does not answer). Patroni 3.0
        still says `master` where later versions say `primary`."""
        try:
            role = str(_get_json(f"{self.rest}/patroni").get("role"))
        except OSError:
            return None
        return "primary" if role == "master" else role

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        return None

    def kill(self) -> None:
        """SIGKILL Patroni and every PostgreSQL process of this node: the host is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
        postmaster = self.postmaster_pid()
        if postmaster is not None:
            for pid in [postmaster, *_children(postmaster)]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        _stop(self.process, timeout=30)  # Patroni stops its PostgreSQL on SIGTERM
        self.process = None
        postmaster = self.postmaster_pid()
        if postmaster is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(postmaster, signal.SIGQUIT)


class PatroniCluster:
    """etcd and `size` Patroni nodes; `url(db)` names every node with
    target_session_attrs=read-write, so libpq finds whichever is primary."""

    def __init__(self, size: int = 2, *, strict: bool = False, root: Path | None = None) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="command-center-ha-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.scope = f"cc-{os.getpid()}-{time.monotonic_ns() % 100000}"
        self.strict = strict
        self.etcd = Etcd(self.root)
        self.nodes = [PatroniNode(f"node{i}", self.root, self.etcd) for i in range(size)]

    def start(self, prepare: Callable[[PatroniCluster], object] | None = None) -> None:
        """etcd, then the first node (it bootstraps: initdb); `prepare(self)` on it alone
        (loading data is quicker before commits wait for a standby); then the others,
        which copy it (pg_basebackup), until one streams as the synchronous standby."""
        self.etcd.start()
        first, *others = self.nodes
        first.start(self.scope, self.strict)
        _wait(lambda: first.role() == "primary", 60, "the first node primary")
        if prepare is not None:
            prepare(self)
        for node in others:
            node.start(self.scope, self.strict)
        try:
            _wait(self.synchronous_standby, 120, "a synchronous standby streaming")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; members {self.members()}; {self.log_tails()}") from None

    def members(self) -> list[dict[str, Any]]:
        for node in self.nodes:
            with contextlib.suppress(OSError):
                return list(_get_json(f"{node.rest}/cluster")["members"])
        return []

    def synchronous_standby(self) -> str | None:
        for member in self.members():
            state = member.get("state")  # Patroni 3.0 says running, later ones streaming
            if member.get("role") == "sync_standby" and state in ("running", "streaming"):
                return str(member["name"])
        return None

    def primary(self) -> PatroniNode | None:
        for node in self.nodes:
            if node.process is not None and node.role() == "primary":
                return node
        return None

    def url(self, database: str) -> str:
        hosts = "&".join(f"host=127.0.0.1:{node.pg_port}" for node in self.nodes)
        return (
            f"postgresql+psycopg://{ROLE}:{PASSWORD}@/{database}?{hosts}"
            "&target_session_attrs=read-write"
        )

    def conninfo(self, database: str, user: str = ROLE, password: str = PASSWORD) -> str:
        hosts = ",".join("127.0.0.1" for _ in self.nodes)
        ports = ",".join(str(node.pg_port) for node in self.nodes)
        return (
            f"host={hosts} port={ports} dbname={database} user={user} password={password} "
            "target_session_attrs=read-write connect_timeout=3"
        )

    def superuser(self, database: str = "postgres") -> psycopg.Connection[tuple[Any, ...]]:
        info = self.conninfo(database, "postgres", SUPERUSER_PASSWORD)
        return psycopg.connect(info, autocommit=True)

    def create_demo_database(self, name: str) -> str:
        """A migrated demo city on the primary (replicated to the standby); its URL."""
        with self.superuser() as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone():
                conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
            conn.execute(f"CREATE DATABASE {name} OWNER {ROLE}")
        with self.superuser(name) as conn:
            conn.execute("CREATE EXTENSION postgis")
        load_demo_city(self.url(name))
        return self.url(name)

    def log_tails(self, chars: int = 1500) -> str:
        """The end of each node's log, for a failure message."""
        tails = []
        for node in self.nodes:
            path = self.root / f"{node.name}.log"
            text = path.read_text("utf-8", errors="replace") if path.exists() else ""
            tails.append(f"--- {node.name}.log ---\n{text[-chars:]}")
        return "\n".join(tails)

    def copy_of(self, template: str, name: str) -> str:
        """A new database copied from `template` on the primary; its URL."""
        with self.superuser() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {template} OWNER {ROLE}")
        return self.url(name)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.etcd.stop()

    def remove(self) -> None:
        for node in self.nodes:
            node.kill()
        self.etcd.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def patroni_cluster(
    size: int = 2,
    *,
    strict: bool = False,
    prepare: Callable[[PatroniCluster], object] | None = None,
) -> Iterator[PatroniCluster]:
    cluster = PatroniCluster(size, strict=strict)
    try:
        cluster.start(prepare)
        yield cluster
    finally:
        cluster.remove()


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=2) as answer:
        return dict(json.loads(answer.read()))


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _stop(process: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def main() -> None:
    """`python -m tests.hacluster up [--nodes N] [--strict] [--database NAME]`: start a
    cluster with the demo city, print its DATABASE_URL, keep it until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="scripts/ha-cluster")
    parser.add_argument("action", choices=["up"])
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--strict", action="store_true", help="synchronous_mode_strict")
    parser.add_argument("--database", default="command_center_ha")
    args = parser.parse_args()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    cluster = PatroniCluster(args.nodes, strict=args.strict)
    try:
        cluster.start(lambda c: c.create_demo_database(args.database))
        url = cluster.url(args.database)
        for node in cluster.nodes:
            print(f"{node.name}: PostgreSQL 127.0.0.1:{node.pg_port}, Patroni REST {node.rest}")
        print(f"etcd: {cluster.etcd.endpoint}; files under {cluster.root}")
        print(f"DATABASE_URL={url}", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        cluster.remove()
    sys.exit(0)


if __name__ == "__main__":
    main()
