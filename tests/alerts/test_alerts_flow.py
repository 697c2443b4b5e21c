"""The done-when of issue 18, end to end: a real server alerts the squad's members when
a clue is dispatched — no squad page open — over the stand-in CMPP gateway and the
stand-in DingTalk API; an unaccepted dispatch goes out again on each member's second
channel; a reporter is texted at registration, handling and closure, never more than
the daily cap, never after 退订; quiet hours hold; every attempt is on the clue."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from command_center.accounts import service as accounts
from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.privacy import mask_phone
from command_center.settings import Settings
from tests.accounts_support import strong_password
from tests.alerts.chat_apis import ChatApi
from tests.alerts.cmpp_gateway import CmppGateway
from tests.conftest import DEMO, LiveServer, _test_settings, start_server
from tests.support import LIANDU, post_tip

pytestmark = pytest.mark.asyncio(loop_scope="session")

SQUADS = [line.split(",")[0] for line in (DEMO / "squads.csv").read_text("utf-8").splitlines()[1:]]
BASE = "https://cc.example.cn"
ESCALATE_AFTER = 3


def phone_of(squad_index: int, member: int) -> str:
    return f"139{squad_index:04d}{member:04d}"  # the masked form shows the member


@pytest.fixture(scope="module")
def gateway() -> Iterator[CmppGateway]:
    server = CmppGateway(sp_id="901234", secret="gw-secret").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dingtalk() -> Iterator[ChatApi]:
    api = ChatApi("dingtalk", key="ding-key", secret="ding-secret", agent_id=3001, users=set())
    yield api
    api.stop()


@pytest.fixture(scope="module")
def wecom() -> Iterator[ChatApi]:
    users = {f"ww-{code}-b" for code in SQUADS} | {"ww-lead"}
    api = ChatApi("wecom", key="ww-corp", secret="ww-secret", agent_id=1000002, users=users)
    yield api
    api.stop()


@pytest.fixture(scope="module")
def alert_settings(gateway: CmppGateway, dingtalk: ChatApi, wecom: ChatApi) -> Settings:
    return _test_settings(
        sms_cmpp_host="127.0.0.1",
        sms_cmpp_port=gateway.port,
        sms_cmpp_sp_id="901234",
        sms_cmpp_secret="gw-secret",
        sms_cmpp_src_id="106571234",
        dingtalk_api_base=dingtalk.base,
        dingtalk_app_key="ding-key",
        dingtalk_app_secret="ding-secret",
        dingtalk_agent_id=3001,
        wecom_api_base=wecom.base,
        wecom_corp_id="ww-corp",
        wecom_corp_secret="ww-secret",
        wecom_agent_id=1000002,
        alert_escalate_after_seconds=ESCALATE_AFTER,
        reporter_sms_per_day=3,
        public_base_url=BASE,
        scheduler_poll_seconds=0.5,
    )


@pytest.fixture(scope="module")
async def members(database: Database, alert_settings: Settings) -> AsyncIterator[None]:
    """Four members of every demo squad: (a) prefers SMS and has DingTalk, (b) prefers
    DingTalk and has WeCom, (c) is in quiet hours now, (d) has only a WeCom userid that
    WeCom does not know."""
    policy = accounts.AccountPolicy.from_settings(alert_settings)
    local = datetime.now(alert_settings.zone)
    quiet = f"{local - timedelta(hours=1):%H:%M}-{local + timedelta(hours=1):%H:%M}"
    async with database.transaction() as session:
        for i, code in enumerate(SQUADS):
            for member, channels in (
                (
                    "a",
                    accounts.ChannelIdentities(
                        dingtalk_userid=f"ding-{code}-a", preferred_channel="sms"
                    ),
                ),
                (
                    "b",
                    accounts.ChannelIdentities(
                        dingtalk_userid=f"ding-{code}-b",
                        wecom_userid=f"ww-{code}-b",
                        preferred_channel="dingtalk",
                    ),
                ),
                ("c", accounts.ChannelIdentities(preferred_channel="sms", quiet_hours=quiet)),
                ("d", accounts.ChannelIdentities(wecom_userid=f"ww-gone-{code}")),
            ):
                await accounts.create_user(
                    session=session,
                    login=f"alert-{code.lower()}-{member}",
                    role=Role.SQUAD,
                    password=strong_password(),
                    policy=policy,
                    name=f"队员{member}",
                    squad=code,
                    phone=phone_of(i, "abc".index(member)) if member != "d" else None,
                    channels=channels,
                )
        await accounts.create_user(
            session=session,
            login="alert-lead",
            role=Role.SUPERVISOR,
            password=strong_password(),
            policy=policy,
            jurisdiction="331102",
            channels=accounts.ChannelIdentities(
                dingtalk_userid="ding-lead", wecom_userid="ww-lead"
            ),
        )
    yield


@pytest.fixture(scope="module")
def server(alert_settings: Settings, members: None) -> Iterator[LiveServer]:
    live = start_server(alert_settings)
    yield live
    live.stop()


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_tip(client: httpx.AsyncClient, **fields: str) -> dict[str, Any]:
    response = await post_tip(client, at=LIANDU, **fields)
    assert response.status_code == 200, response.text
    return dict(response.json()[0])


async def clue_of(client: httpx.AsyncClient, server: LiveServer, sid: str) -> dict[str, Any]:
    operator = server.token(Role.OPERATOR, jurisdiction="331102")
    clues = (await client.get("/api/v1/clues", headers=auth(operator))).json()
    [clue] = [c for c in clues if c["service_request_id"] == sid]
    return dict(clue)


async def notifications(
    client: httpx.AsyncClient, server: LiveServer, clue_id: int
) -> list[dict[str, Any]]:
    operator = server.token(Role.OPERATOR, jurisdiction="331102")
    answer = await client.get(f"/api/v1/clues/{clue_id}/notifications", headers=auth(operator))
    assert answer.status_code == 200, answer.text
    return list(answer.json())


async def act(client: httpx.AsyncClient, token: str, clue_id: int, action: str) -> None:
    answer = await client.post(
        f"/api/v1/clues/{clue_id}/actions", json={"action": action}, headers=auth(token)
    )
    assert answer.status_code == 200, answer.text


async def settled(
    client: httpx.AsyncClient, server: LiveServer, clue_id: int, recipient: str
) -> list[dict[str, Any]]:
    """The record once the first alert to `recipient` is no longer pending (the stand-in
    hears a message a moment before the sender commits its outcome)."""
    deadline = time.monotonic() + 5
    while True:
        record = await notifications(client, server, clue_id)
        if any(n["recipient"] == recipient and n["status"] != "pending" for n in record):
            return record
        if time.monotonic() > deadline:
            return record
        await asyncio.sleep(0.05)


def linked(texts: list[str], clue_id: int) -> list[str]:
    return [t for t in texts if t.endswith(f"/console/squad?clue={clue_id}")]


async def wait(check: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("gave up waiting")
        await asyncio.sleep(0.05)


async def test_a_dispatch_reaches_the_squad_over_cmpp_and_dingtalk_within_two_seconds(
    server: LiveServer, client: httpx.AsyncClient, gateway: CmppGateway, dingtalk: ChatApi
) -> None:
    started = time.monotonic()
    tip = await new_tip(client)
    clue = await clue_of(client, server, tip["service_request_id"])
    squad, i = clue["squad_code"], SQUADS.index(clue["squad_code"])
    await wait(lambda: linked(gateway.texts_to(phone_of(i, 0)), clue["id"]), 2.5)
    await wait(lambda: linked(dingtalk.texts_to(f"ding-{squad}-b"), clue["id"]), 2.5)
    by_sms = next(r.at for r in gateway.submits if r.number == phone_of(i, 0))
    by_dingtalk = dingtalk.arrived[-1]
    assert by_sms - started < 2.0 and by_dingtalk - started < 2.0, (by_sms, by_dingtalk)
    [words] = linked(gateway.texts_to(phone_of(i, 0)), clue["id"])
    assert words.startswith("【城管执法】新派单") and tip["service_request_id"] in words
    assert words.endswith(f"{BASE}/console/squad?clue={clue['id']}")

    # accepted in time: nobody is alerted a second time
    await act(client, server.token(Role.SQUAD, squad=squad), clue["id"], "accept")
    await asyncio.sleep(ESCALATE_AFTER + 1.5)
    record = await notifications(client, server, clue["id"])
    steps = {(n["recipient"], n["step"]): n for n in record if n["audience"] == "member"}
    first_sms = steps[(mask_phone(phone_of(i, 0)), "dispatch")]
    assert first_sms["channel"] == "sms" and first_sms["status"] == "sent"
    assert first_sms["receipt"] == "DELIVRD" and first_sms["delivered"] is True
    assert steps[(f"ding-{squad}-b", "dispatch")]["status"] == "sent"
    escalations = [n for n in record if n["step"] == "escalation"]
    assert escalations and {n["status"] for n in escalations} == {"cancelled"}
    assert not [t for t in dingtalk.texts_to(f"ding-{squad}-a") if "未接单" in t]
    assert phone_of(i, 0) not in str(record)


async def test_a_failed_send_is_retried_and_the_last_failure_raised(
    server: LiveServer, client: httpx.AsyncClient, dingtalk: ChatApi
) -> None:
    dingtalk.busy = 1  # the first work notification is answered errcode -1 (busy)
    tip = await new_tip(client)
    clue = await clue_of(client, server, tip["service_request_id"])
    squad = clue["squad_code"]
    await wait(lambda: linked(dingtalk.texts_to(f"ding-{squad}-b"), clue["id"]), 6)
    record = await settled(client, server, clue["id"], f"ding-{squad}-b")
    [retried] = [
        n for n in record if n["recipient"] == f"ding-{squad}-b" and n["step"] == "dispatch"
    ]
    assert retried["status"] == "sent" and retried["tries"] == 2
    assert "errcode -1" in retried["error"]
    [gone] = [n for n in record if n["recipient"] == f"ww-gone-{squad}" and n["step"] == "dispatch"]
    assert gone["status"] == "failed" and "81013" in gone["error"] and gone["tries"] == 1
    operator = server.token(Role.OPERATOR, jurisdiction="331102")
    events = (await client.get(f"/api/v1/clues/{clue['id']}/events", headers=auth(operator))).json()
    [warning] = [
        e for e in events if e["type"] == "clue.alert_failed" and e["data"]["step"] == "dispatch"
    ]
    assert warning["data"]["channel"] == "wecom" and "ww-gone" not in str(warning)
    wall = (await client.get("/api/v1/warnings", headers=auth(operator))).json()
    assert {"kind": "alert_failed", "clue_id": clue["id"]}.items() <= next(
        w for w in wall if w["kind"] == "alert_failed" and w["clue_id"] == clue["id"]
    ).items()
    await act(client, server.token(Role.SQUAD, squad=squad), clue["id"], "accept")


async def test_an_unaccepted_dispatch_goes_out_again_on_the_second_channel(
    server: LiveServer,
    client: httpx.AsyncClient,
    gateway: CmppGateway,
    dingtalk: ChatApi,
    wecom: ChatApi,
) -> None:
    tip = await new_tip(client)
    clue = await clue_of(client, server, tip["service_request_id"])
    squad, i = clue["squad_code"], SQUADS.index(clue["squad_code"])
    await wait(lambda: linked(gateway.texts_to(phone_of(i, 0)), clue["id"]))
    await wait(lambda: linked(dingtalk.texts_to(f"ding-{squad}-a"), clue["id"]), ESCALATE_AFTER + 3)
    await wait(lambda: linked(wecom.texts_to(f"ww-{squad}-b"), clue["id"]), 3)
    [again] = linked(dingtalk.texts_to(f"ding-{squad}-a"), clue["id"])
    assert "未接单提醒" in again
    record = await settled(client, server, clue["id"], f"ww-{squad}-b")
    ladder = sorted(
        (n["recipient"], n["step"], n["channel"], n["status"])
        for n in record
        if n["audience"] == "member" and n["status"] == "sent"
    )
    assert (f"ding-{squad}-a", "escalation", "dingtalk", "sent") in ladder
    assert (f"ww-{squad}-b", "escalation", "wecom", "sent") in ladder


async def test_quiet_hours_hold_a_members_alert(
    server: LiveServer, client: httpx.AsyncClient, gateway: CmppGateway
) -> None:
    tip = await new_tip(client)
    clue = await clue_of(client, server, tip["service_request_id"])
    i = SQUADS.index(clue["squad_code"])
    await wait(lambda: linked(gateway.texts_to(phone_of(i, 0)), clue["id"]))
    record = await notifications(client, server, clue["id"])
    [held] = [
        n
        for n in record
        if n["recipient"].endswith(phone_of(i, 2)[-4:]) and n["step"] == "dispatch"
    ]
    assert held["status"] == "pending" and held["error"].startswith("quiet hours")
    assert datetime.fromisoformat(held["due_at"]) > datetime.now(UTC) + timedelta(minutes=30)
    assert not linked(gateway.texts_to(phone_of(i, 2)), clue["id"])
    await act(client, server.token(Role.SQUAD, squad=clue["squad_code"]), clue["id"], "accept")


async def test_the_reporter_is_told_at_registration_handling_and_closure(
    server: LiveServer,
    client: httpx.AsyncClient,
    gateway: CmppGateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    phone = "13711112222"
    tip = await new_tip(client, phone=phone, first_name="王", last_name="小明")
    code = tip["progress_code"]
    await wait(lambda: len(gateway.texts_to(phone)) == 1)
    clue = await clue_of(client, server, tip["service_request_id"])
    squad = server.token(Role.SQUAD, squad=clue["squad_code"])
    for action in ("accept", "arrive", "handle"):
        await act(client, squad, clue["id"], action)
    await act(client, server.token(Role.GRID_WORKER, jurisdiction="331102"), clue["id"], "verify")
    await act(client, server.token(Role.OPERATOR, jurisdiction="331102"), clue["id"], "close")
    await wait(lambda: len(gateway.texts_to(phone)) == 3)
    registered, handled, closed = gateway.texts_to(phone)
    assert "已登记" in registered and "已处置" in handled and "已办结" in closed
    for words in (registered, handled, closed):
        assert code in words and f"{BASE}/track/{code}" in words
        assert phone not in words and "2222" not in words.replace(code, "")
        assert "王" not in words and "小明" not in words
    record = await notifications(client, server, clue["id"])
    told = [n for n in record if n["audience"] == "reporter"]
    assert [n["step"] for n in told] == ["registered", "handled", "closed"]
    assert {n["recipient"] for n in told} == {"137****2222"}
    logged = caplog.text
    assert caplog.records and phone not in logged and "小明" not in logged
    assert "gw-secret" not in logged and "ding-secret" not in logged and "token-" not in logged


async def test_the_daily_cap_holds_and_an_opt_out_is_honoured_at_once(
    server: LiveServer, client: httpx.AsyncClient, gateway: CmppGateway
) -> None:
    phone = "13733334444"
    tips = [await new_tip(client, phone=phone) for _ in range(4)]
    await wait(lambda: len(gateway.texts_to(phone)) == 3)
    last = await clue_of(client, server, tips[-1]["service_request_id"])
    await asyncio.sleep(1.5)
    assert len(gateway.texts_to(phone)) == 3
    [skipped] = [
        n for n in await notifications(client, server, last["id"]) if n["audience"] == "reporter"
    ]
    assert skipped["status"] == "skipped" and "daily cap of 3" in skipped["error"]

    other = "13755556666"
    gateway.reply(other, "TD")
    await asyncio.sleep(0.5)
    quiet = await new_tip(client, phone=other)
    await asyncio.sleep(2.0)
    assert gateway.texts_to(other) == []
    clue = await clue_of(client, server, quiet["service_request_id"])
    assert not [
        n for n in await notifications(client, server, clue["id"]) if n["audience"] == "reporter"
    ]


async def test_the_record_is_scoped_like_the_clue(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    tip = await new_tip(client)
    clue = await clue_of(client, server, tip["service_request_id"])
    mine = server.token(Role.SQUAD, squad=clue["squad_code"])
    other = server.token(Role.OPERATOR, jurisdiction="331121")
    path = f"/api/v1/clues/{clue['id']}/notifications"
    assert (await client.get(path, headers=auth(mine))).status_code == 200
    assert (await client.get(path, headers=auth(other))).status_code in (403, 404)
    assert (await client.get(path)).status_code == 401


async def test_the_supervision_ladder_reminds_the_squad_and_alerts_the_leaders(
    server: LiveServer,
    client: httpx.AsyncClient,
    database: Database,
    dingtalk: ChatApi,
    wecom: ChatApi,
) -> None:
    tip = await new_tip(client)
    clue = await clue_of(client, server, tip["service_request_id"])
    squad = clue["squad_code"]
    await act(client, server.token(Role.SQUAD, squad=squad), clue["id"], "accept")
    async with database.transaction() as session:  # the ladder's rungs fall due now
        await session.execute(
            text(
                "UPDATE timers SET due_at = now() WHERE clue_id = :id AND fired_at IS NULL "
                "AND kind IN ('reminder', 'supervision', 'escalation')"
            ),
            {"id": clue["id"]},
        )
    desk = f"{BASE}/console/dispatch?clue={clue['id']}"
    await wait(lambda: len([t for t in dingtalk.texts_to("ding-lead") if t.endswith(desk)]) == 2, 6)
    await wait(lambda: [t for t in wecom.texts_to("ww-lead") if t.endswith(desk)], 3)
    await wait(lambda: [t for t in dingtalk.texts_to(f"ding-{squad}-b") if "提醒函" in t], 3)
    order, escalation = [t for t in dingtalk.texts_to("ding-lead") if t.endswith(desk)]
    assert "督办单" in order and "督办升级" in escalation and squad in order
    [reminder] = [t for t in dingtalk.texts_to(f"ding-{squad}-b") if "提醒函" in t]
    assert reminder.endswith(f"/console/squad?clue={clue['id']}")
    record = await settled(client, server, clue["id"], "ww-lead")
    leaders = sorted((n["step"], n["channel"]) for n in record if n["audience"] == "leader")
    assert leaders == [
        ("escalated", "dingtalk"),
        ("escalated", "wecom"),
        ("supervision_order", "dingtalk"),
    ]
