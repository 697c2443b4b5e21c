"""Single sign-on against a real OpenID provider (panva's oidc-provider, OpenID
Certified, started by the tests): authorization code with PKCE, the ID token verified,
its officer_number claim mapped to an existing active account (issue 14)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text

from command_center.accounts import service, sso
from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.accounts_support import make_user, new_login
from tests.conftest import LiveServer, _test_settings, free_port
from tests.oidc_provider import (
    IdpUser,
    OidcProvider,
    callback_url,
    sign_on_at_provider,
    sso_servers,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

ZHANG = IdpUser("zhang", "Portal-pw-1", {"name": "张三", "officer_number": "SSO-33110001"})
WANG = IdpUser("wang", "Portal-pw-2", {"name": "王五", "officer_number": "SSO-33110002"})
LI = IdpUser("li", "Portal-pw-3", {"name": "李四", "officer_number": "SSO-33119999"})
NOBODY = IdpUser("nobody", "Portal-pw-4", {"name": "无号"})
ZHAO = IdpUser("zhao", "Portal-pw-5", {"officer_number": "SSO-33110003"})
QIAN = IdpUser("qian", "Portal-pw-6", {"officer_number": "SSO-33110004"}, amr=("pwd", "otp"))
USERS = (ZHANG, WANG, LI, NOBODY, ZHAO, QIAN)


class World:
    """Our service (`server`), a second one that creates accounts (`creating`), both
    registered at the one provider."""

    def __init__(self, server: LiveServer, creating: LiveServer, provider: OidcProvider) -> None:
        self.server, self.creating, self.provider = server, creating, provider


@pytest.fixture(scope="module")
def world(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("oidc")
    with sso_servers(tmp, USERS, {}, {"oidc_create_accounts": True}) as (provider, servers):
        yield World(servers[0], servers[1], provider)


@pytest.fixture(scope="module")
async def accounts(world: World, database: Database) -> dict[str, str]:
    """Accounts here for ZHANG (active operator), WANG (disabled), ZHAO and QIAN (admins,
    who need two factors); none for LI."""
    settings = world.server.settings
    zhang, _, _ = await make_user(database, settings, Role.OPERATOR, officer_number="SSO-33110001")
    wang, _, _ = await make_user(database, settings, Role.OPERATOR, officer_number="SSO-33110002")
    zhao, _, _ = await make_user(database, settings, Role.ADMIN, officer_number="SSO-33110003")
    qian, _, _ = await make_user(database, settings, Role.ADMIN, officer_number="SSO-33110004")
    async with database.transaction() as session:
        await service.disable_user(session=session, login=wang)
    return {"zhang": zhang, "wang": wang, "zhao": zhao, "qian": qian}


@pytest.fixture
async def browser(world: World) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (cookie jar, and a user agent that finds its audit events)."""
    agent = f"sso-test-{secrets.token_hex(6)}"
    async with httpx.AsyncClient(
        base_url=world.server.url, timeout=15, headers={"user-agent": agent}
    ) as http:
        yield http


async def start(browser: httpx.AsyncClient, next_path: str = "/console/dispatch") -> httpx.Response:
    return await browser.get("/auth/sso/login", params={"next": next_path})


async def events_of(browser: httpx.AsyncClient, database: Database, kind: str) -> list[Any]:
    """The data of the `kind` events that this browser's requests caused (the relay moves
    them from the outbox into the log within about a second)."""
    agent = browser.headers["user-agent"]
    deadline = time.monotonic() + 5
    while True:
        async with database.sessions() as session:
            rows = await session.execute(
                text(
                    "SELECT data FROM events WHERE type = :kind "
                    "AND data->>'user_agent' = :agent ORDER BY id"
                ),
                {"kind": kind, "agent": agent},
            )
            found = [row[0] for row in rows]
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)


async def test_the_login_redirect_asks_for_a_code_with_pkce_state_and_nonce(
    world: World, browser: httpx.AsyncClient
) -> None:
    answer = await start(browser)
    assert answer.status_code == 302
    target = urlsplit(answer.headers["location"])
    query = {key: values[0] for key, values in parse_qs(target.query).items()}
    assert f"{target.scheme}://{target.netloc}" == world.provider.issuer
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 20 and len(query["nonce"]) >= 20
    assert query["client_id"] == "command-center"
    assert query["redirect_uri"] == f"{world.server.url}/auth/sso/callback"
    assert set(query["scope"].split()) == {"openid", "profile"}
    cookie = answer.headers["set-cookie"].lower()
    assert "cc_sso=" in cookie and "httponly" in cookie and "path=/auth/sso" in cookie


async def test_a_sign_on_lands_on_the_console_signed_in_as_the_mapped_account(
    world: World, browser: httpx.AsyncClient, accounts: dict[str, str], database: Database
) -> None:
    back = await sign_on_at_provider(
        browser, await start(browser), login=ZHANG.login, password=ZHANG.password
    )
    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/console/dispatch"
    assert "cc_session=" in back.headers["set-cookie"]
    me = await browser.get("/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["login"] == accounts["zhang"] and me.json()["role"] == "operator"
    desk = await browser.get("/console/dispatch")
    assert desk.status_code == 200 and "login-form" not in desk.text
    signed_in = await events_of(browser, database, "account.signed_in")
    methods = [event["method"] for event in signed_in]
    assert methods == ["oidc"]


@pytest.mark.parametrize(
    ("person", "reason", "words"),
    [
        (LI, "unknown_account", "no active account"),
        (WANG, "disabled", "disabled"),
        (NOBODY, "no_claim", "no officer_number claim"),
        (ZHAO, "second_factor_missing", "two factors"),
    ],
    ids=["unknown officer number", "disabled account", "no claim", "admin without 2nd factor"],
)
async def test_a_sign_on_is_refused_with_a_page_that_says_why(
    browser: httpx.AsyncClient,
    accounts: dict[str, str],
    database: Database,
    person: IdpUser,
    reason: str,
    words: str,
) -> None:
    back = await sign_on_at_provider(
        browser, await start(browser), login=person.login, password=person.password
    )
    assert back.status_code == 401
    assert f'data-reason="{reason}"' in back.text and words in back.text
    assert "cc_session" not in back.headers.get("set-cookie", "")
    assert (await browser.get("/auth/me")).status_code == 401
    recorded = await events_of(browser, database, "account.sso_refused")
    assert [event["reason"] for event in recorded] == [reason]
    assert person.claims.get("officer_number", "none") not in str(recorded)


async def test_an_administrator_whose_portal_checked_two_factors_signs_on(
    browser: httpx.AsyncClient, accounts: dict[str, str]
) -> None:
    back = await sign_on_at_provider(
        browser, await start(browser, "/console"), login=QIAN.login, password=QIAN.password
    )
    assert back.status_code == 303, back.text
    me = await browser.get("/auth/me")
    assert me.json()["login"] == accounts["qian"] and me.json()["role"] == "admin"


async def test_a_tampered_state_is_refused(
    browser: httpx.AsyncClient, accounts: dict[str, str], database: Database
) -> None:
    url = await callback_url(
        browser, await start(browser), login=ZHANG.login, password=ZHANG.password
    )
    query = parse_qs(url.query.decode())
    tampered = url.copy_set_param("state", query["state"][0][:-2] + "xx")
    back = await browser.get(tampered)
    assert back.status_code == 401 and 'data-reason="state_mismatch"' in back.text
    assert (await browser.get("/auth/me")).status_code == 401
    recorded = await events_of(browser, database, "account.sso_refused")
    assert [event["reason"] for event in recorded] == ["state_mismatch"]


async def test_a_callback_without_the_browsers_transaction_is_refused(
    world: World, browser: httpx.AsyncClient, accounts: dict[str, str]
) -> None:
    """A code sent to another browser (login CSRF: an attacker's own code)."""
    url = await callback_url(
        browser, await start(browser), login=ZHANG.login, password=ZHANG.password
    )
    async with httpx.AsyncClient(timeout=15) as victim:
        back = await victim.get(url)
    assert back.status_code == 401 and 'data-reason="no_transaction"' in back.text


async def test_a_replayed_code_is_refused_by_the_provider(
    browser: httpx.AsyncClient, accounts: dict[str, str]
) -> None:
    answer = await start(browser)
    transaction = browser.cookies["cc_sso"]
    url = await callback_url(browser, answer, login=ZHANG.login, password=ZHANG.password)
    first = await browser.get(url)
    assert first.status_code == 303
    # the same code again, with the transaction cookie an eavesdropper would have kept
    browser.cookies.set("cc_sso", transaction, path="/auth/sso")
    again = await browser.get(url)
    assert again.status_code == 401, again.text
    assert 'data-reason="code_refused"' in again.text and "invalid_grant" in again.text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
async def test_next_never_leads_off_this_site(
    browser: httpx.AsyncClient, accounts: dict[str, str], target: str
) -> None:
    back = await sign_on_at_provider(
        browser, await start(browser, target), login=ZHANG.login, password=ZHANG.password
    )
    assert back.status_code == 303 and back.headers["location"] == "/console"


async def test_a_sign_on_ends_the_session_the_browser_had(
    world: World, browser: httpx.AsyncClient, accounts: dict[str, str], database: Database
) -> None:
    """No session fixation: a session cookie planted before the sign-on is not taken
    over, and the earlier session ends."""
    settings: Settings = world.server.settings
    login, password, _ = await make_user(database, settings, Role.OPERATOR, login=new_login("pre"))
    signed = await browser.post("/auth/login", json={"username": login, "password": password})
    assert signed.status_code == 200
    planted = browser.cookies["cc_session"]
    await sign_on_at_provider(
        browser, await start(browser), login=ZHANG.login, password=ZHANG.password
    )
    assert browser.cookies["cc_session"] != planted
    async with httpx.AsyncClient(base_url=world.server.url, timeout=15) as other:
        other.cookies.set("cc_session", planted)
        assert (await other.get("/auth/me")).status_code == 401


async def test_the_sign_in_page_offers_the_portal(
    browser: httpx.AsyncClient, tmp_path: Path
) -> None:
    page = await browser.get("/login", params={"next": "/console/wall"})
    assert page.status_code == 200
    assert 'href="/auth/sso/login?next=/console/wall"' in page.text
    assert "统一身份认证" in page.text


async def test_without_an_issuer_there_is_no_single_sign_on(client: httpx.AsyncClient) -> None:
    answer = await client.get("/auth/sso/login")
    assert answer.status_code == 404 and "OIDC_ISSUER" in answer.text
    page = await client.get("/login")
    assert "/auth/sso/login" not in page.text


async def test_an_unknown_person_gets_an_account_only_where_the_administrator_allows_it(
    world: World, accounts: dict[str, str], database: Database
) -> None:
    """OIDC_CREATE_ACCOUNTS: LI, unknown to `server` (refused above), signs on to
    `creating` and gets a grid worker's account with the officer number; the next
    sign-on finds that account again."""
    async with httpx.AsyncClient(base_url=world.creating.url, timeout=15) as browser:
        logins = []
        for _ in range(2):
            start = await browser.get("/auth/sso/login")
            back = await sign_on_at_provider(browser, start, login=LI.login, password=LI.password)
            assert back.status_code == 303, back.text
            me = (await browser.get("/auth/me")).json()
            logins.append(me["login"])
            assert me["role"] == "grid_worker" and me["name"] == "李四"
        assert logins == ["sso-sso-33119999"] * 2
    async with database.sessions() as session:
        officer_numbers = (
            (
                await session.execute(
                    text("SELECT officer_number FROM users WHERE login = :login"),
                    {"login": logins[0]},
                )
            )
            .scalars()
            .all()
        )
    assert officer_numbers == ["SSO-33119999"]


async def test_an_unreachable_issuer_answers_503_and_says_so(settings: Settings) -> None:
    closed = _test_settings(oidc_issuer=f"http://127.0.0.1:{free_port()}", oidc_client_id="x")
    client = sso.OidcClient(closed)
    with pytest.raises(sso.SignOnFailed) as raised:
        await client.start(next_path="/console")
    assert raised.value.status == 503 and raised.value.reason == "unavailable"
    assert "cannot be reached" in raised.value.message
