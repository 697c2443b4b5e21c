"""Accounts for the tests: created through the accounts service, signed in over HTTP."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest
from sqlalchemy import text

from command_center.accounts import service
from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings

_numbers = itertools.count(1)


def new_login(prefix: str = "user") -> str:
    return f"{prefix}{next(_numbers)}-{secrets.token_hex(3)}"


def strong_password() -> str:
    return f"Zx{secrets.token_hex(6)}!9"


async def make_user(
    database: Database,
    settings: Settings,
    role: Role = Role.OPERATOR,
    *,
    login: str | None = None,
    password: str | None = None,
    must_change_password: bool = False,
    **scope: str,
) -> tuple[str, str, service.Created]:
    """(login, password, what create_user returned) of a new active account."""
    login = login or new_login(role.value.replace("_", ""))
    password = password or strong_password()
    async with database.transaction() as session:
        created = await service.create_user(
            session=session,
            login=login,
            role=role,
            password=password,
            policy=service.AccountPolicy.from_settings(settings),
            name=f"测试 {login}",
            must_change_password=must_change_password,
            **scope,  # type: ignore[arg-type]
        )
    return login, password, created


async def sign_in(client: httpx.AsyncClient, login: str, password: str, **extra: str) -> str:
    """Sign `client` in (its cookie jar keeps the session); the CSRF token."""
    answer = await client.post(
        "/auth/login", json={"username": login, "password": password, **extra}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["csrf_token"])


async def forget_failures(database: Database) -> None:
    """Failed sign-ins of the tests all come from 127.0.0.1: forget them, so that one
    test's failures never lock the address for the next."""
    async with database.transaction() as session:
        await session.execute(text("DELETE FROM login_failures"))


@pytest.fixture
async def no_failures_left(database: Database) -> AsyncIterator[None]:
    """Forget failed sign-ins before and after a test (use it with
    `pytest.mark.usefixtures("no_failures_left")` and import it into the module)."""
    await forget_failures(database)
    yield
    await forget_failures(database)


async def sign_in_admin(
    client: httpx.AsyncClient, database: Database, settings: Settings, role: Role
) -> tuple[str, str]:
    """A new administrator account of `role` signed in with its second factor: (login, CSRF)."""
    login, password, created = await make_user(database, settings, role)
    assert created.otpauth_uri
    code = pyotp.TOTP(pyotp.parse_uri(created.otpauth_uri).secret).now()
    return login, await sign_in(client, login, password, totp=code)
