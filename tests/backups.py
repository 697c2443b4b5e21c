"""pgBackRest (Debian's `pgbackrest`) for a PostgreSQL cluster the test owns: the
repository, lock and log folders under the cluster's temporary folder, WAL archived by
`archive-push`, everything run as the postgres OS user. The same settings as
scripts/backup-setup writes for a real host, with paths of the test's own."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.servers import OwnPostgres, _as_postgres

STANZA = "command_center"


class Backups:
    def __init__(self, cluster: OwnPostgres) -> None:
        self.cluster = cluster
        self.root = cluster.root / "pgbackrest"
        self.config = self.root / "pgbackrest.conf"

    def configure(self) -> None:
        """Write the configuration, turn on WAL archiving (a restart) and create the
        stanza; `check` proves a WAL segment reaches the repository."""
        for folder in ("repo", "log", "lock", "spool"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            "\n".join(
                [
                    "[global]",
                    f"repo1-path={self.root / 'repo'}",
                    "repo1-retention-full=2",
                    f"log-path={self.root / 'log'}",
                    f"lock-path={self.root / 'lock'}",
                    f"spool-path={self.root / 'spool'}",
                    "log-level-console=warn",
                    "start-fast=y",
                    "compress-type=lz4",
                    "process-max=2",
                    f"[{STANZA}]",
                    f"pg1-path={self.cluster.data}",
                    f"pg1-port={self.cluster.port}",
                    f"pg1-socket-path={self.cluster.sockets}",
                    "pg1-user=postgres",
                    "",
                ]
            ),
            "utf-8",
        )
        subprocess.run(["chown", "-R", "postgres:postgres", str(self.root)], check=True)
        with (self.cluster.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\narchive_mode = on\n"
                f"archive_command = 'pgbackrest --config={self.config} --stanza={STANZA}"
                " archive-push %p'\nwal_level = replica\nmax_wal_senders = 3\n"
            )
        self.cluster.stop()
        self.cluster.start()
        self.run("stanza-create")
        self.run("check")

    def run(self, *command: str, timeout: float = 300) -> float:
        """`pgbackrest <command>` for the stanza; the seconds it took."""
        start = time.monotonic()
        _as_postgres(
            ["pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", *command],
            timeout=timeout,
        )
        return time.monotonic() - start

    def backup_size(self) -> int:
        """Bytes in the repository (backups and archived WAL)."""
        return sum(p.stat().st_size for p in (self.root / "repo").rglob("*") if p.is_file())

    def restore(self, into: Path, target_time: str) -> float:
        """Restore the latest backup into the empty folder `into`, set to replay WAL up to
        `target_time` and then promote; the seconds the restore took."""
        return self.run(
            f"--pg1-path={into}",
            "--type=time",
            f"--target={target_time}",
            "--target-action=promote",
            "restore",
        )
