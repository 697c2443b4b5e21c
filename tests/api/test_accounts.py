"""Named people sign in: the session cookie, CSRF, lockout, forced password change,
session fixation, personal tokens and their revocation, websockets that end with their
credential (issue 14; issue 15 items 4 and 7)."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pyotp
import pytest
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from command_center.accounts import service
from command_center.audit import service as audit
from command_center.auth import tokens
from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.accounts_support import make_user, new_login, no_failures_left, sign_in
from tests.conftest import LiveServer

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.usefixtures(no_failures_left.__name__),
]


async def test_sign_in_answers_the_contract_and_sets_a_safe_cookie(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings, Role.SUPERVISOR, jurisdiction="331102")
    answer = await client.post("/auth/login", json={"username": login, "password": password})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"csrf_token", "user", "password_change_required"}
    assert body["user"] == {
        "login": login,
        "name": f"测试 {login}",
        "role": "supervisor",
        "squad": None,
        "jurisdiction": "331102",
    }
    assert body["password_change_required"] is False
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain HTTP here; over HTTPS it is Secure
    me = await client.get("/auth/me")
    assert me.status_code == 200 and me.json()["login"] == login


async def test_an_unknown_login_and_a_wrong_password_look_and_take_the_same(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, _, _ = await make_user(database, settings)

    async def attempt(username: str) -> tuple[int, dict[str, object], float]:
        started = time.perf_counter()
        answer = await client.post(
            "/auth/login", json={"username": username, "password": "Wrong-pass-123"}
        )
        return answer.status_code, answer.json(), time.perf_counter() - started

    known = [await attempt(login) for _ in range(3)]
    unknown = [await attempt(new_login("nobody")) for _ in range(3)]
    assert {(status, str(body)) for status, body, _ in known + unknown} == {
        (401, str({"error": "unauthenticated", "detail": "wrong login name or password"}))
    }
    known_time = statistics.median(t for *_, t in known)
    unknown_time = statistics.median(t for *_, t in unknown)
    # Both verify one Argon2id hash (a dummy one for an unknown login).
    assert 0.5 < known_time / unknown_time < 2.0, (known_time, unknown_time)


@pytest.mark.parametrize("exists", [True, False])
async def test_five_failures_lock_a_login_whether_it_exists_or_not(
    client: httpx.AsyncClient, database: Database, settings: Settings, exists: bool
) -> None:
    login, password, _ = await make_user(database, settings)
    if not exists:
        login = new_login("ghost")
    for _ in range(5):
        answer = await client.post("/auth/login", json={"username": login, "password": "Nope-123x"})
        assert answer.status_code == 401
    locked = await client.post("/auth/login", json={"username": login, "password": password})
    assert locked.status_code == 429
    assert 890 <= int(locked.headers["retry-after"]) <= 900
    assert "too many failed sign-ins" in locked.json()["detail"]


async def test_a_cookie_request_that_changes_something_needs_the_csrf_token(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings)
    csrf = await sign_in(client, login, password)
    body = {"name": "script", "expires_in_days": 7}
    refused = await client.post("/api/v1/tokens", json=body)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["detail"]
    wrong = await client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    created = await client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    assert set(created.json()) >= {"id", "token", "name", "expires_at"}


async def test_the_first_sign_in_must_change_the_password_first(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings, must_change_password=True)
    answer = await client.post("/auth/login", json={"username": login, "password": password})
    assert answer.json()["password_change_required"] is True
    csrf = {"X-CSRF-Token": answer.json()["csrf_token"]}
    blocked = await client.get("/api/v1/tokens")
    assert blocked.status_code == 403 and "password must be changed" in blocked.json()["detail"]
    weak = await client.post(
        "/auth/password",
        json={"current_password": password, "new_password": "password1"},
        headers=csrf,
    )
    assert weak.status_code == 400 and "commonly used" in weak.json()["detail"]
    assert "password1" not in weak.text.replace("commonly used passwords", "")
    changed = await client.post(
        "/auth/password",
        json={"current_password": password, "new_password": "Lian-Du-Zhifa-77"},
        headers=csrf,
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get("/api/v1/tokens")).status_code == 200


async def test_signing_in_always_makes_a_new_session_id(
    live_server: LiveServer, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings)
    planted = "attacker-chosen-session-id-0123456789abcdef"
    credentials = {"username": login, "password": password}

    async def signed_in_cookie(sent: str) -> str:
        async with httpx.AsyncClient(base_url=live_server.url) as c:
            answer = await c.post(
                "/auth/login", json=credentials, headers={"Cookie": f"cc_session={sent}"}
            )
            assert answer.status_code == 200, answer.text
            return str(answer.cookies["cc_session"])

    first = await signed_in_cookie(planted)
    assert first != planted
    second = await signed_in_cookie(first)
    assert second != first
    for ended in (planted, first):
        async with httpx.AsyncClient(base_url=live_server.url) as c:
            me = await c.get("/auth/me", headers={"Cookie": f"cc_session={ended}"})
            assert me.status_code == 401  # the planted id never was one; the first ended


async def test_signing_out_ends_the_session(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings)
    csrf = await sign_in(client, login, password)
    cookie = client.cookies["cc_session"]
    assert (await client.post("/auth/logout", headers={"X-CSRF-Token": csrf})).status_code == 204
    client.cookies.set("cc_session", cookie)
    assert (await client.get("/auth/me")).status_code == 401


async def _closed_within(ws: object, seconds: float) -> tuple[int | None, float]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(seconds):
            while True:
                await ws.recv()  # type: ignore[attr-defined]
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else None
        return code, time.perf_counter() - started
    raise AssertionError("not closed")  # pragma: no cover


async def test_a_revoked_personal_token_is_refused_and_its_socket_closed(
    client: httpx.AsyncClient, live_server: LiveServer, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings)
    csrf = await sign_in(client, login, password)
    created = await client.post(
        "/api/v1/tokens",
        json={"name": "laptop", "expires_in_days": 30},
        headers={"X-CSRF-Token": csrf},
    )
    token_id, token = created.json()["id"], created.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=live_server.url) as api:
        assert (await api.get("/auth/me", headers=bearer)).json()["login"] == login
        listed = await client.get("/api/v1/tokens")
        assert [t["id"] for t in listed.json()] == [token_id]
        assert "token" not in listed.json()[0]
        async with connect(f"{live_server.ws_url}?token={token}", open_timeout=5) as ws:
            revoked = await client.delete(
                f"/api/v1/tokens/{token_id}", headers={"X-CSRF-Token": csrf}
            )
            assert revoked.status_code == 204
            code, took = await _closed_within(ws, 3)
        assert code == 4401 and took < 2.0, (code, took)
        assert (await api.get("/auth/me", headers=bearer)).status_code == 401


async def test_a_disabled_account_is_thrown_off_its_session_socket(
    client: httpx.AsyncClient, live_server: LiveServer, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings, Role.SQUAD, squad="LD-01")
    await sign_in(client, login, password)
    cookie = f"cc_session={client.cookies['cc_session']}"
    headers = {"Cookie": cookie, "Origin": live_server.url}
    async with connect(live_server.ws_url, additional_headers=headers, open_timeout=5) as ws:
        async with database.transaction() as session:
            await service.disable_user(session=session, login=login)
        code, took = await _closed_within(ws, 3)  # no announcement: the poll finds it
    assert code == 4401 and took < 2.0, (code, took)
    assert (await client.get("/auth/me")).status_code == 401


async def test_a_session_socket_from_another_sites_page_is_refused(
    client: httpx.AsyncClient, live_server: LiveServer, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings)
    await sign_in(client, login, password)
    headers = {
        "Cookie": f"cc_session={client.cookies['cc_session']}",
        "Origin": "https://evil.example",
    }
    async with connect(live_server.ws_url, additional_headers=headers, open_timeout=5) as ws:
        code, _ = await _closed_within(ws, 3)
    assert code == 4403


async def test_an_open_socket_closes_when_its_token_expires(live_server: LiveServer) -> None:
    token = tokens.mint(
        key=live_server.settings.signing_key(), role=Role.OPERATOR, ttl=timedelta(seconds=2)
    )
    async with connect(f"{live_server.ws_url}?token={token}", open_timeout=5) as ws:
        code, took = await _closed_within(ws, 5)
    assert code == 4401 and took < 4.0


async def test_the_token_is_taken_only_under_its_one_name(
    client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    token = live_server.token(Role.OPERATOR)
    assert (await client.get(f"/auth/me?token={token}")).status_code == 200
    for spelling in ("tok%65n", "TOKEN", "Token", "%74oken"):
        answer = await client.get(f"/auth/me?{spelling}={token}")
        assert answer.status_code == 401, spelling


async def test_a_token_of_the_previous_release_is_refused_unless_allowed(
    client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    now = datetime.now(UTC)
    claims = {"iss": "command-center", "sub": "wall-1", "role": "operator", "jti": "ab"}
    claims |= {"iat": int(now.timestamp()), "exp": int((now + timedelta(days=1)).timestamp())}
    old = jwt.encode(claims, live_server.settings.signing_key(), algorithm="HS256")
    answer = await client.get("/auth/me", headers={"Authorization": f"Bearer {old}"})
    assert answer.status_code == 401 and "previous release" in answer.json()["detail"]


async def test_an_administrator_signs_in_with_a_second_factor_and_a_code_works_once(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, password, created = await make_user(database, settings, Role.AUDITOR)
    assert created.otpauth_uri and len(created.recovery_codes) == 8
    credentials = {"username": login, "password": password}
    asked = await client.post("/auth/login", json=credentials)
    assert asked.status_code == 401 and asked.json()["totp_required"] is True
    wrong = await client.post("/auth/login", json={**credentials, "totp": "000000"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong login name or password"
    secret = pyotp.parse_uri(created.otpauth_uri).secret
    right = await client.post("/auth/login", json={**credentials, "totp": pyotp.TOTP(secret).now()})
    assert right.status_code == 200 and right.json()["user"]["role"] == "auditor"
    code = created.recovery_codes[0]
    assert (await client.post("/auth/login", json={**credentials, "totp": code})).status_code == 200
    used = await client.post("/auth/login", json={**credentials, "totp": code})
    assert used.status_code == 401


async def test_sign_ins_and_revocations_are_in_the_intact_audit_chain(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings)
    await client.post("/auth/login", json={"username": login, "password": "Wrong-pass-1"})
    csrf = await sign_in(client, login, password)
    await client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    query = text(
        "SELECT type, data FROM events WHERE type LIKE 'account.%' "
        "AND (data->>'login' = :l OR data->>'user' = "
        "(SELECT CAST(id AS text) FROM users WHERE login = :l)) ORDER BY id"
    )
    deadline = time.monotonic() + 5  # the relay moves the outbox into the log
    while True:
        async with database.sessions() as session:
            rows = (await session.execute(query, {"l": login})).all()
            verification = await audit.verify(session=session)
        if len(rows) >= 4 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    types = [row.type for row in rows]
    assert types == [
        "account.user_created",
        "account.sign_in_failed",
        "account.signed_in",
        "account.signed_out",
    ]
    for row in rows:
        assert "Wrong-pass-1" not in str(row.data) and password not in str(row.data)
    assert rows[1].data["address"] == "127.0.0.1" and "python-httpx" in rows[1].data["user_agent"]
    assert verification.intact
