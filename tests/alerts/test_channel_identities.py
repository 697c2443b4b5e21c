"""An account carries where it is alerted: phone, WeCom and DingTalk userids and a
preferred channel, set by `command-center user create …` and the users API (admin)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.accounts_support import forget_failures, new_login, sign_in_admin
from tests.conftest import LiveServer
from tests.integration.test_cli_accounts import run_with_stdin


async def test_the_command_line_sets_the_channel_identities(
    database: Database, settings: Settings
) -> None:
    login = new_login("squad")
    created = run_with_stdin(
        settings, "Dui-Yuan-Mima-2026\n", "user", "create", login, "--role", "squad",
        "--squad", "LD-01", "--phone", "13800138000", "--wecom-userid", "ZhangSan",
        "--dingtalk-userid", "manager4220", "--preferred-channel", "dingtalk",
        "--quiet-hours", "22:00-07:00", "--password-stdin",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    async with database.sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT phone, wecom_userid, dingtalk_userid, preferred_channel, "
                    "to_char(quiet_start, 'HH24:MI'), to_char(quiet_end, 'HH24:MI') "
                    "FROM users WHERE login = :l"
                ),
                {"l": login},
            )
        ).one()
    assert tuple(row) == ("13800138000", "ZhangSan", "manager4220", "dingtalk", "22:00", "07:00")
    wrong = run_with_stdin(
        settings, "Dui-Yuan-Mima-2026\n", "user", "create", new_login(), "--role", "squad",
        "--squad", "LD-01", "--preferred-channel", "pager", "--password-stdin",
    )  # fmt: skip
    assert wrong.returncode != 0 and "pager" in wrong.stderr


@pytest.fixture
async def admin(
    live_server: LiveServer, database: Database, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    await forget_failures(database)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        _, csrf = await sign_in_admin(client, database, settings, Role.ADMIN)
        client.headers["X-CSRF-Token"] = csrf
        yield client


async def test_the_users_api_sets_and_changes_them(admin: httpx.AsyncClient) -> None:
    login = new_login("squad")
    body = {
        "login": login, "role": "squad", "squad": "LD-01", "phone": "13900139000",
        "wecom_userid": "LiSi", "dingtalk_userid": "ding-lisi", "preferred_channel": "wecom",
    }  # fmt: skip
    created = await admin.post("/api/v1/users", json=body)
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["phone"] == "139****9000"
    assert (account["wecom_userid"], account["dingtalk_userid"]) == ("LiSi", "ding-lisi")
    assert account["preferred_channel"] == "wecom"
    changed = await admin.patch(f"/api/v1/users/{login}", json={"preferred_channel": "sms"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["preferred_channel"] == "sms"
    cleared = await admin.patch(f"/api/v1/users/{login}", json={"wecom_userid": None})
    assert cleared.json()["wecom_userid"] is None
    wrong = await admin.patch(f"/api/v1/users/{login}", json={"preferred_channel": "pager"})
    assert wrong.status_code == 422
    quiet = await admin.patch(f"/api/v1/users/{login}", json={"quiet_hours": "23:00-06:30"})
    assert quiet.status_code == 200 and quiet.json()["quiet_hours"] == "23:00-06:30"
    bad = await admin.patch(f"/api/v1/users/{login}", json={"quiet_hours": "23:00"})
    assert bad.status_code == 400 and "HH:MM-HH:MM" in bad.json()["detail"]
    cleared = await admin.patch(f"/api/v1/users/{login}", json={"quiet_hours": ""})
    assert cleared.json()["quiet_hours"] is None


def test_alert_test_reaches_an_account_on_each_of_its_channels(
    database: Database, settings: Settings
) -> None:
    import os
    import subprocess
    import sys

    from tests.alerts.chat_apis import ChatApi
    from tests.alerts.cmpp_gateway import CmppGateway
    from tests.integration.test_cli import ROOT

    login = new_login("squad")
    created = run_with_stdin(
        settings, "Dui-Yuan-Mima-2026\n", "user", "create", login, "--role", "squad",
        "--squad", "LD-02", "--phone", "13800138099", "--dingtalk-userid", "ding-test",
        "--wecom-userid", "nobody-at-wecom", "--password-stdin",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    gateway = CmppGateway(sp_id="901234", secret="gw-secret").start()
    dingtalk = ChatApi("dingtalk", key="k", secret="s", agent_id=7, users=set())
    wecom = ChatApi("wecom", key="c", secret="s", agent_id=8, users=set())
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.signing_key(),
        "SMS_CMPP_HOST": "127.0.0.1",
        "SMS_CMPP_PORT": str(gateway.port),
        "SMS_CMPP_SP_ID": "901234",
        "SMS_CMPP_SECRET": "gw-secret",
        "SMS_CMPP_SRC_ID": "106571234",
        "DINGTALK_API_BASE": dingtalk.base,
        "DINGTALK_APP_KEY": "k",
        "DINGTALK_APP_SECRET": "s",
        "DINGTALK_AGENT_ID": "7",
        "WECOM_API_BASE": wecom.base,
        "WECOM_CORP_ID": "c",
        "WECOM_CORP_SECRET": "s",
        "WECOM_AGENT_ID": "8",
    }
    try:
        result = subprocess.run(
            [sys.executable, "-m", "command_center", "alert", "test", login],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False,
        )  # fmt: skip
    finally:
        gateway.stop()
        dingtalk.stop()
        wecom.stop()
    lines = result.stdout.splitlines()
    assert lines[0].startswith("dingtalk: sent") and lines[1].startswith("wecom: failed")
    assert lines[2].startswith("sms: sent")
    assert result.returncode == 1 and "a channel failed" in result.stderr
    assert gateway.texts_to("13800138099") == ["【城管执法】测试消息：指挥中心的提醒可以送达您。"]
    assert "13800138099" not in result.stdout + result.stderr
    unknown = subprocess.run(
        [sys.executable, "-m", "command_center", "alert", "test", "no-such-login"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert unknown.returncode == 1 and "no active account no-such-login" in unknown.stderr
