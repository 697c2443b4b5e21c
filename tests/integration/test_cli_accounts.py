"""`command-center user …` and recorded tokens as an administrator uses them (issue 14;
issue 15 item 4: lifetimes capped, bad --days a clear error)."""

from __future__ import annotations

import subprocess

import pyotp
import pytest
from sqlalchemy import text

from command_center.accounts import service
from command_center.auth import tokens
from command_center.db.session import Database
from command_center.settings import Settings
from tests.accounts_support import new_login
from tests.integration.test_cli import ROOT, run


def run_with_stdin(settings: Settings, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.signing_key(),
    }
    return subprocess.run(
        [sys.executable, "-m", "command_center", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("days", ["0", "91", "36500", "99999999"])
def test_a_token_lifetime_beyond_its_cap_is_a_clear_error(
    database: Database, settings: Settings, days: str
) -> None:
    result = run(settings, "token", "--role", "operator", "--days", days)
    assert result.returncode == 1
    assert f"a kiosk token lives between 1 and 90 days (the days given: {days})" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


async def test_a_minted_token_is_recorded_and_revoked_by_its_id(
    database: Database, settings: Settings
) -> None:
    minted = run(settings, "token", "--role", "device", "--device", "CAM-CLI-1", "--days", "90")
    assert minted.returncode == 0, minted.stderr
    principal = tokens.verify(minted.stdout.strip(), key=settings.signing_key(), allow_device=True)
    token_id = (principal.credential or "").removeprefix("token:")
    assert f"token {token_id} (device, device)" in minted.stderr
    async with database.sessions() as session:
        kind = (
            await session.execute(
                text("SELECT kind FROM api_tokens WHERE id = :i"), {"i": token_id}
            )
        ).scalar_one()
    assert kind == "device"
    revoked = run(settings, "token", "revoke", token_id)
    assert revoked.returncode == 0 and revoked.stdout.strip() == f"token {token_id} revoked"
    unknown = run(settings, "token", "revoke", "0000000000000000")
    assert unknown.returncode == 1 and "no token 0000000000000000" in unknown.stderr


async def test_an_administrator_account_gets_a_second_factor_once(
    database: Database, settings: Settings
) -> None:
    login = new_login("sec")
    created = run_with_stdin(
        settings, "Shen-Ji-Yuan-2026\n", "user", "create", login, "--role", "security_admin",
        "--name", "安全管理员", "--password-stdin",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    uri = next(line for line in lines if line.startswith("otpauth://totp/"))
    secret = pyotp.parse_uri(uri).secret
    assert len(lines) >= 4 + 8  # the URI and eight recovery codes
    async with database.sessions() as session:
        user_id, stored = (
            await session.execute(
                text("SELECT id, totp_secret FROM users WHERE login = :l"), {"l": login}
            )
        ).one()
    assert secret not in stored  # sealed at rest (accounts/totp_vault.py)
    vault = service.AccountPolicy.from_settings(settings).vault()
    assert vault.open(stored, user_id=user_id) == secret
    again = run_with_stdin(
        settings,
        "Shen-Ji-Yuan-2026\n",
        "user",
        "create",
        login,
        "--role",
        "auditor",
        "--password-stdin",
    )
    assert again.returncode == 1 and "this login is taken" in again.stderr


def test_a_weak_password_or_a_scope_that_does_not_fit_is_refused(
    database: Database, settings: Settings
) -> None:
    weak = run_with_stdin(
        settings,
        "12345678\n",
        "user",
        "create",
        new_login(),
        "--role",
        "operator",
        "--password-stdin",
    )
    assert weak.returncode == 1 and "commonly used" in weak.stderr and "12345678" not in weak.stderr
    squadless = run_with_stdin(
        settings,
        "Strong-Pass-91\n",
        "user",
        "create",
        new_login(),
        "--role",
        "squad",
        "--password-stdin",
    )
    assert squadless.returncode == 1 and "needs a squad" in squadless.stderr


def test_disable_and_reset_password(database: Database, settings: Settings) -> None:
    login = new_login("op")
    assert run_with_stdin(
        settings, "Strong-Pass-91\n", "user", "create", login, "--role", "operator",
        "--jurisdiction", "331102", "--password-stdin",
    ).returncode == 0  # fmt: skip
    reset = run(settings, "user", "reset-password", login)
    assert reset.returncode == 0 and "new password" in reset.stdout
    new_password = reset.stdout.strip().splitlines()[-1]
    assert len(new_password) >= 16
    disabled = run(settings, "user", "disable", login)
    assert disabled.returncode == 0 and "disabled" in disabled.stdout
    missing = run(settings, "user", "disable", "nobody-here")
    assert missing.returncode == 1 and "no account nobody-here" in missing.stderr


def test_rekey_totp_leaves_secrets_sealed_with_the_current_key(
    database: Database, settings: Settings
) -> None:
    done = run(settings, "user", "rekey-totp")
    assert done.returncode == 0, done.stderr
    key_id = service.AccountPolicy.from_settings(settings).vault().current_id
    assert done.stdout.strip().endswith(f"sealed again with key {key_id}")
