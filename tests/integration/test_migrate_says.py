"""`command-center migrate` says what it did: every migration it applied on a fresh
database, and that there was nothing to apply the second time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROLE, OwnPostgres

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ROOT / "command_center" / "db" / "migrations" / "versions"
SHIPPED = sorted(p.name.split("_", 1)[0] for p in VERSIONS.glob("0*.py"))


def migrate(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "command_center", "migrate"],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_migrate_on_a_fresh_database_names_each_migration_it_applied(
    own_postgres: OwnPostgres,
) -> None:
    own_postgres.psql("postgres", f"CREATE DATABASE fresh_migrate OWNER {ROLE}")
    own_postgres.psql("fresh_migrate", "CREATE EXTENSION postgis")
    first = migrate(own_postgres.url("fresh_migrate"))
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    applied = [line.split(":")[0].removeprefix("applied ") for line in lines[:-1]]
    assert applied == SHIPPED  # every one, oldest first
    assert lines[0].startswith("applied 0001: ") and len(lines[0]) > len("applied 0001: ")
    assert (
        lines[-1] == f"database is at the latest migration ({SHIPPED[-1]}): {len(SHIPPED)} applied"
    )

    again = migrate(own_postgres.url("fresh_migrate"))
    assert again.stdout.strip() == "database is at the latest migration: nothing to apply"
