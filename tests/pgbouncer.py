"""A pgbouncer (Debian's package) of the test's own in transaction mode, in front of a
PostgreSQL the test owns: its own port and folder, run as the postgres OS user
(pgbouncer refuses root), stopped by its PID."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import free_port
from tests.servers import PASSWORD, ROLE, wait_for_port


class OwnPgbouncer:
    def __init__(self, server_port: int, *, pool_size: int = 20) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="command-center-pgbouncer-"))
        self.port = free_port()
        self.server_port = server_port
        self.pool_size = pool_size
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{ROLE}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        assert os.path.exists(binary), "pgbouncer is not installed (scripts/test installs it)"
        (self.root / "userlist.txt").write_text(f'"{ROLE}" "{PASSWORD}"\n', "utf-8")
        (self.root / "pgbouncer.ini").write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host=127.0.0.1 port={self.server_port}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = scram-sha-256",
                    f"auth_file = {self.root / 'userlist.txt'}",
                    "pool_mode = transaction",
                    f"default_pool_size = {self.pool_size}",
                    "max_client_conn = 1000",
                    "server_login_retry = 1",
                    "server_connect_timeout = 3",
                    "query_wait_timeout = 10",
                    f"logfile = {self.root / 'pgbouncer.log'}",
                    f"pidfile = {self.root / 'pgbouncer.pid'}",
                    "",
                ]
            ),
            "utf-8",
        )
        as_postgres: dict[str, object] = {}
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            for name in ("userlist.txt", "pgbouncer.ini"):
                shutil.chown(self.root / name, "postgres", "postgres")
            as_postgres = {"user": "postgres", "group": "postgres", "extra_groups": []}
        self.process = subprocess.Popen(
            [binary, str(self.root / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **as_postgres,  # type: ignore[arg-type]
        )
        wait_for_port(self.port, self.process, "pgbouncer", self.log)

    def log(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text("utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
