"""`/api/v1/users` as the three separated administrators use it (三员分立): admin
creates and edits people, security_admin changes roles and scopes, nobody their own;
disabling throws the account off at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.accounts_support import (
    new_login,
    no_failures_left,
    sign_in,
    sign_in_admin,
)
from tests.conftest import LiveServer

pytestmark = pytest.mark.usefixtures(no_failures_left.__name__)


@pytest.fixture
async def admin(
    live_server: LiveServer, database: Database, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        _, csrf = await sign_in_admin(client, database, settings, Role.ADMIN)
        client.headers["X-CSRF-Token"] = csrf
        yield client


@pytest.fixture
async def security(
    live_server: LiveServer, database: Database, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        login, csrf = await sign_in_admin(client, database, settings, Role.SECURITY_ADMIN)
        client.headers["X-CSRF-Token"] = csrf
        client.headers["X-Test-Login"] = login
        yield client


async def test_admin_creates_an_officer_who_signs_in_and_must_change_the_password(
    admin: httpx.AsyncClient, live_server: LiveServer
) -> None:
    login = new_login("officer")
    body = {"login": login, "role": "squad", "squad": "LD-01", "name": "李执法"}
    body |= {"officer_number": f"ZJ{login[-6:]}", "phone": "13905711234"}
    created = await admin.post("/api/v1/users", json=body)
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["phone"] == "139****1234" and account["password_change_required"] is True
    listed = await admin.get("/api/v1/users")
    assert any(a["login"] == login and "13905711234" not in str(a) for a in listed.json())
    again = await admin.post("/api/v1/users", json={**body, "login": new_login()})
    assert again.status_code == 409 and "officer number" in again.json()["detail"]
    async with httpx.AsyncClient(base_url=live_server.url) as officer:
        answer = await officer.post(
            "/auth/login", json={"username": login, "password": account["password"]}
        )
        assert answer.status_code == 200 and answer.json()["password_change_required"] is True
        assert answer.json()["user"]["squad"] == "LD-01"


async def test_the_duties_stay_apart(admin: httpx.AsyncClient, security: httpx.AsyncClient) -> None:
    refused = await admin.post("/api/v1/users", json={"login": new_login(), "role": "auditor"})
    assert refused.status_code == 403 and "三员分立" in refused.json()["detail"]
    login = new_login("op")
    assert (
        await admin.post("/api/v1/users", json={"login": login, "role": "operator"})
    ).status_code == 201
    by_admin = await admin.patch(f"/api/v1/users/{login}", json={"role": "supervisor"})
    assert by_admin.status_code == 403 and "security_admin" in by_admin.json()["detail"]
    by_security = await security.patch(
        f"/api/v1/users/{login}", json={"role": "supervisor", "jurisdiction": "331102"}
    )
    assert by_security.status_code == 200, by_security.text
    assert (
        by_security.json()["role"] == "supervisor"
        and by_security.json()["jurisdiction"] == "331102"
    )
    rename = await security.patch(f"/api/v1/users/{login}", json={"name": "王"})
    assert rename.status_code == 403
    own = security.headers["X-Test-Login"]
    self_change = await security.patch(f"/api/v1/users/{own}", json={"role": "admin"})
    assert self_change.status_code == 403 and "own role" in self_change.json()["detail"]
    bad_scope = await security.patch(f"/api/v1/users/{login}", json={"role": "squad"})
    assert bad_scope.status_code == 400 and "needs a squad" in bad_scope.json()["detail"]


async def test_an_operator_may_not_manage_accounts(
    live_server: LiveServer, database: Database, settings: Settings
) -> None:
    from tests.accounts_support import make_user

    login, password, _ = await make_user(database, settings)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        csrf = await sign_in(client, login, password)
        assert (await client.get("/api/v1/users")).status_code == 403
        made = await client.post(
            "/api/v1/users",
            json={"login": new_login(), "role": "operator"},
            headers={"X-CSRF-Token": csrf},
        )
        assert made.status_code == 403


async def test_disabling_ends_the_session_at_once(
    admin: httpx.AsyncClient, live_server: LiveServer, database: Database, settings: Settings
) -> None:
    from tests.accounts_support import make_user

    login, password, _ = await make_user(database, settings)
    async with httpx.AsyncClient(base_url=live_server.url) as officer:
        await sign_in(officer, login, password)
        assert (await officer.get("/auth/me")).status_code == 200
        disabled = await admin.patch(f"/api/v1/users/{login}", json={"active": False})
        assert disabled.status_code == 200 and disabled.json()["active"] is False
        assert (await officer.get("/auth/me")).status_code == 401
        relogin = await officer.post("/auth/login", json={"username": login, "password": password})
        assert relogin.status_code == 401


@pytest.mark.parametrize("role", [Role.SECURITY_ADMIN, Role.AUDITOR])
async def test_the_security_administrator_and_the_auditor_read_no_clue_anywhere(
    role: Role, live_server: LiveServer, database: Database, settings: Settings
) -> None:
    """三员分立: the two duties kept away from the cases get no list, map, collection,
    export or statistics of clues, even though their account has no jurisdiction."""
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        await sign_in_admin(client, database, settings, role)
        for path, params in (
            ("/api/v1/clues", {}),
            ("/api/v1/map/clues", {"bbox": "119,27.5,121,29", "zoom": "12"}),
            ("/ogc/collections/open_clues/items", {}),
            ("/api/v1/exports/clues.csv", {}),
            ("/api/v1/stats/overview", {}),
            ("/api/v1/stats/hotspots", {}),
            ("/api/v1/warnings", {}),
            ("/api/v1/devices", {}),
            ("/api/v1/reports", {}),
        ):
            answer = await client.get(path, params=params)
            assert answer.status_code == 403, (path, answer.status_code)
        # like /ws, the recent events answer with none of them
        assert (await client.get("/api/v1/events/latest")).json() == []
