"""The `command-center` command as an administrator uses it."""

import os
import subprocess
import sys
from pathlib import Path

from command_center.auth import tokens
from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.signing_key(),
    }
    return subprocess.run(
        [sys.executable, "-m", "command_center", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_migrate_twice_is_harmless(database: Database, settings: Settings) -> None:
    assert run(settings, "migrate").returncode == 0
    second = run(settings, "migrate")
    assert second.returncode == 0
    assert "latest migration" in second.stdout


def test_reimporting_the_demo_updates_in_place(database: Database, settings: Settings) -> None:
    result = run(settings, "import", "squads", "demo/lishui/squads.csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "squads: 0 created, 16 updated"


def test_a_bad_catalogue_is_refused_with_line_numbers(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "matters.csv"
    bad.write_text(
        "code,name,domain,department,legal_basis,deadline_hours\nX-1,a,b,c,d,soon\n", "utf-8"
    )
    result = run(settings, "import", "matters", str(bad))
    assert result.returncode == 1
    assert "line 2: deadline_hours 'soon' is not a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_file_is_named(database: Database, settings: Settings) -> None:
    result = run(settings, "import", "jurisdictions", "nowhere.geojson")
    assert result.returncode == 1
    assert "nowhere.geojson: no such file" in result.stderr


def test_a_squad_token_is_printed_and_verifies(database: Database, settings: Settings) -> None:
    result = run(settings, "token", "--role", "squad", "--squad", "LD-01")
    assert result.returncode == 0, result.stderr
    principal = tokens.verify(result.stdout.strip(), key=settings.signing_key())
    assert (principal.role, principal.squad) == (Role.SQUAD, "LD-01")


def test_a_token_for_an_unknown_squad_is_refused(database: Database, settings: Settings) -> None:
    result = run(settings, "token", "--role", "squad", "--squad", "NOPE")
    assert result.returncode == 1
    assert "unknown squad NOPE" in result.stderr


def test_serving_without_a_secret_key_is_refused(settings: Settings) -> None:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "-m", "command_center", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "SECRET_KEY is not set" in result.stderr


def test_an_api_key_is_printed_last_and_then_works(database: Database, settings: Settings) -> None:
    created = run(settings, "apikey", "create", "12345热线", "--rate", "0")
    assert created.returncode == 0, created.stderr
    lines = created.stdout.strip().splitlines()
    assert "unlimited" in lines[0]
    assert lines[-1].startswith("cck_")
    listed = run(settings, "apikey", "list")
    assert "12345热线" in listed.stdout and lines[-1] not in listed.stdout
    assert run(settings, "apikey", "create", "bad", "--rate", "-1").returncode == 1


def test_attributes_import_names_unknown_matters(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "attributes.csv"
    bad.write_text(
        "matter_code,code,datatype,required,description\nNOPE,x,string,false,问题\n", "utf-8"
    )
    result = run(settings, "import", "attributes", str(bad))
    assert result.returncode == 1
    assert "unknown matter NOPE" in result.stderr


def test_webhooks_are_listed_inspected_and_removed(database: Database, settings: Settings) -> None:
    added = run(settings, "webhook", "add", "http://127.0.0.1:9/never", "--types", "clue.closed")
    assert added.returncode == 0, added.stderr
    hook_id = added.stdout.split()[1]
    listed = run(settings, "webhook", "list")
    line = next(row for row in listed.stdout.splitlines() if row.startswith(f"{hook_id}\t"))
    assert "http://127.0.0.1:9/never" in line and "types=clue.closed" in line and "active" in line
    assert "no delivery attempts yet" in run(settings, "webhook", "deliveries", hook_id).stdout

    removed = run(settings, "webhook", "remove", hook_id)
    assert removed.returncode == 0 and "removed" in removed.stdout
    line = next(
        row
        for row in run(settings, "webhook", "list").stdout.splitlines()
        if row.startswith(f"{hook_id}\t")
    )
    assert "removed" in line
    again = run(settings, "webhook", "remove", hook_id)
    assert again.returncode == 1 and f"no active webhook {hook_id}" in again.stderr
    unknown = run(settings, "webhook", "deliveries", "999999")
    assert unknown.returncode == 1 and "no webhook 999999" in unknown.stderr
