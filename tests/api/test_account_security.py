"""Second factors sealed at rest, key rotation, and password age (定期更换) — issue 14."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from sqlalchemy import text

from command_center.accounts import service
from command_center.accounts.totp_vault import TotpVault
from command_center.auth.model import Role
from command_center.db.migrate import downgrade, upgrade
from command_center.db.session import Database
from command_center.settings import ConfigurationError, Settings
from tests.accounts_support import make_user, no_failures_left, sign_in

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.usefixtures(no_failures_left.__name__),
]


async def _stored_secret(database: Database, login: str) -> str:
    async with database.sessions() as session:
        return str(
            (
                await session.execute(
                    text("SELECT totp_secret FROM users WHERE login = :l"), {"l": login}
                )
            ).scalar_one()
        )


async def _password_set_days_ago(database: Database, login: str, days: int) -> None:
    async with database.transaction() as session:
        await session.execute(
            text("UPDATE users SET password_changed_at = :t WHERE login = :l"),
            {"t": datetime.now(UTC) - timedelta(days=days), "l": login},
        )


async def test_a_copy_of_the_users_table_shows_no_second_factor(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, password, created = await make_user(database, settings, Role.AUDITOR)
    assert created.otpauth_uri
    secret = pyotp.parse_uri(created.otpauth_uri).secret
    stored = await _stored_secret(database, login)
    assert stored.startswith("enc1:") and secret not in stored
    code = pyotp.TOTP(secret).now()
    await sign_in(client, login, password, totp=code)  # the sealed secret still checks codes
    async with database.transaction() as session:
        with pytest.raises(Exception, match="users_totp_secret_sealed"):
            async with session.begin_nested():
                await session.execute(
                    text("UPDATE users SET totp_secret = :s WHERE login = :l"),
                    {"s": secret, "l": login},
                )


async def test_a_key_rotation_seals_every_secret_again(
    database: Database, settings: Settings
) -> None:
    old = service.AccountPolicy.from_settings(settings)
    login, _, created = await make_user(database, settings, Role.SECURITY_ADMIN)
    assert created.otpauth_uri
    secret = pyotp.parse_uri(created.otpauth_uri).secret
    material = settings.signing_key()
    rotated = replace(old, totp_vault=TotpVault.from_materials("r" * 40, [material]))
    async with database.transaction() as session:
        count = await service.reseal_second_factors(session=session, policy=rotated)
    assert count >= 1
    stored = await _stored_secret(database, login)
    assert rotated.vault().open(stored, user_id=created.user_id) == secret
    assert not rotated.vault().needs_reseal(stored)
    with pytest.raises(ConfigurationError, match="unknown key"):
        async with database.transaction() as session:  # the old key alone no longer opens it
            await service.reseal_second_factors(
                session=session, policy=replace(old, totp_vault=TotpVault.from_materials("q" * 40))
            )
    back = replace(old, totp_vault=TotpVault.from_materials(material, ["r" * 40]))
    async with database.transaction() as session:  # back to the key the server uses
        await service.reseal_second_factors(session=session, policy=back)
    assert old.vault().open(await _stored_secret(database, login), user_id=created.user_id)


async def test_the_upgrade_seals_the_plain_secrets_of_the_previous_release(
    database: Database, settings: Settings
) -> None:
    login, _, created = await make_user(database, settings, Role.ADMIN)
    assert created.otpauth_uri
    secret = pyotp.parse_uri(created.otpauth_uri).secret
    await database.dispose()  # no pooled connection holds the table during the DDL
    downgrade(settings.database_url, "0015")
    assert await _stored_secret(database, login) == secret  # as the previous release kept it
    upgrade(settings.database_url)
    stored = await _stored_secret(database, login)
    assert stored.startswith("enc1:")
    policy = service.AccountPolicy.from_settings(settings)
    assert policy.vault().open(stored, user_id=created.user_id) == secret


async def test_a_password_past_its_age_must_be_changed_at_sign_in(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    assert settings.password_max_age_days == 90
    login, password, _ = await make_user(database, settings, Role.OPERATOR)
    await _password_set_days_ago(database, login, 91)
    answer = await client.post("/auth/login", json={"username": login, "password": password})
    assert answer.status_code == 200 and answer.json()["password_change_required"] is True
    csrf = {"X-CSRF-Token": answer.json()["csrf_token"]}
    blocked = await client.get("/api/v1/tokens")
    assert blocked.status_code == 403 and "password must be changed" in blocked.json()["detail"]
    changed = await client.post(
        "/auth/password",
        json={"current_password": password, "new_password": "Ding-Qi-Geng-Huan-90"},
        headers=csrf,
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get("/api/v1/tokens")).status_code == 200
    await client.post("/auth/logout", headers=csrf)
    again = await client.post(
        "/auth/login", json={"username": login, "password": "Ding-Qi-Geng-Huan-90"}
    )
    assert again.status_code == 200 and again.json()["password_change_required"] is False


async def test_a_young_password_signs_in_without_a_change(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings, Role.OPERATOR)
    await _password_set_days_ago(database, login, 89)
    answer = await client.post("/auth/login", json={"username": login, "password": password})
    assert answer.status_code == 200 and answer.json()["password_change_required"] is False
