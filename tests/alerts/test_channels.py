"""Each channel against its stand-in: SMS over CMPP 2.0 (tests/alerts/cmpp_gateway.py),
DingTalk and WeCom over their HTTP APIs (tests/alerts/chat_apis.py)."""

import asyncio
from collections.abc import Iterator
from datetime import datetime

import pytest

from command_center.alerts import cmpp
from command_center.alerts.chat import DingTalkChannel, WeComChannel
from command_center.alerts.model import SendFailed
from command_center.alerts.sms import CmppChannel
from tests.alerts.chat_apis import ChatApi
from tests.alerts.cmpp_gateway import CmppGateway

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def gateway() -> Iterator[CmppGateway]:
    server = CmppGateway(sp_id="901234", secret="gw-secret").start()
    yield server
    server.stop()


def sms(gateway: CmppGateway, secret: str = "gw-secret", **kw: float) -> CmppChannel:
    return CmppChannel(
        host="127.0.0.1",
        port=gateway.port,
        sp_id="901234",
        secret=secret,
        src_id="106571234",
        clock=datetime.now,
        timeout=kw.get("timeout", 2.0),
        active_test_seconds=kw.get("active_test_seconds", 60.0),
    )


async def _until(check: object, seconds: float = 3.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_a_text_is_submitted_and_its_status_report_heard(gateway: CmppGateway) -> None:
    channel = sms(gateway)
    reports: list[cmpp.StatusReport] = []

    async def heard(report: cmpp.StatusReport) -> None:
        reports.append(report)

    channel.on_report = heard
    try:
        msg_id = await channel.send("138-0013-8000", "【城管执法】新派单")
        await _until(lambda: reports)
    finally:
        await channel.close()
    [received] = gateway.submits
    assert received.number == "13800138000" and received.submit.registered_delivery == 1
    assert received.submit.src_id == "106571234" and received.submit.msg_fmt == 8
    assert gateway.texts_to("13800138000") == ["【城管执法】新派单"]
    assert reports[0].msg_id == int(msg_id) and reports[0].delivered
    assert gateway.report_acks, "the status report was answered with CMPP_DELIVER_RESP"
    assert gateway.connects == 1


async def test_a_long_text_goes_in_parts_on_one_connection(gateway: CmppGateway) -> None:
    channel = sms(gateway)
    text = "您反映的问题已办结。" * 12
    try:
        await channel.send("13800138001", text)
        await channel.send("13800138001", "短")
    finally:
        await channel.close()
    assert gateway.texts_to("13800138001") == [text, "短"]
    assert [r.submit.pk_number for r in gateway.submits[:2]] == [1, 2]
    assert gateway.connects == 1


async def test_a_wrong_secret_is_refused_by_the_gateway(gateway: CmppGateway) -> None:
    channel = sms(gateway, secret="wrong")
    with pytest.raises(SendFailed, match="status 3"):
        await channel.send("13800138000", "x")
    await channel.close()
    assert gateway.refused_connects == 1 and not gateway.submits


async def test_a_dropped_link_is_opened_again_at_the_next_send(gateway: CmppGateway) -> None:
    channel = sms(gateway)
    try:
        await channel.send("13800138002", "一")
        gateway.drop_connections()
        await asyncio.sleep(0.1)
        await channel.send("13800138002", "二")
    finally:
        await channel.close()
    assert gateway.texts_to("13800138002") == ["一", "二"] and gateway.connects == 2


async def test_flow_control_is_retryable_a_refusal_is_not(gateway: CmppGateway) -> None:
    channel = sms(gateway)
    try:
        gateway.submit_result = 8
        with pytest.raises(SendFailed) as busy:
            await channel.send("13800138003", "x")
        gateway.submit_result = 6
        with pytest.raises(SendFailed) as refused:
            await channel.send("13800138003", "x")
    finally:
        await channel.close()
    assert busy.value.retryable and not refused.value.retryable
    assert "13800138003" not in str(busy.value) + str(refused.value)


async def test_an_idle_link_is_tested_and_a_silent_one_closed(gateway: CmppGateway) -> None:
    channel = sms(gateway, active_test_seconds=0.4)
    try:
        await channel.send("13800138004", "x")
        await _until(lambda: gateway.active_tests >= 1)
        gateway.answer_active_test = False
        await _until(lambda: channel._link is None or not channel._link.alive)
        await channel.send("13800138004", "y")  # a new link
    finally:
        await channel.close()
    assert gateway.connects == 2


async def test_a_reply_reaches_the_reply_handler(gateway: CmppGateway) -> None:
    channel = sms(gateway)
    replies: list[tuple[str, str]] = []

    async def heard(phone: str, words: str) -> None:
        replies.append((phone, words))

    channel.on_reply = heard
    try:
        await channel.send("13800138005", "x")
        gateway.reply("13800138005", "退订")
        await _until(lambda: replies)
    finally:
        await channel.close()
    assert replies == [("13800138005", "退订")]


@pytest.fixture
def dingtalk() -> Iterator[ChatApi]:
    api = ChatApi("dingtalk", key="ding-key", secret="ding-secret", agent_id=3001, users=set())
    yield api
    api.stop()


@pytest.fixture
def wecom() -> Iterator[ChatApi]:
    api = ChatApi("wecom", key="ww-corp", secret="ww-secret", agent_id=1000002, users={"zhangs"})
    yield api
    api.stop()


async def test_dingtalk_caches_its_token_and_refreshes_a_stale_one(dingtalk: ChatApi) -> None:
    channel = DingTalkChannel(
        base=dingtalk.base, app_key="ding-key", app_secret="ding-secret", agent_id=3001
    )
    try:
        first = await channel.send("user-1", "新派单")
        await channel.send("user-1", "第二条")
        assert dingtalk.token_requests == 1
        dingtalk.expire_tokens()  # answered with errcode 40014
        await channel.send("user-1", "第三条")
    finally:
        await channel.close()
    assert dingtalk.token_requests == 2 and first.isdigit()
    assert dingtalk.texts_to("user-1") == ["新派单", "第二条", "第三条"]


async def test_dingtalk_bad_credentials_and_busy(dingtalk: ChatApi) -> None:
    wrong = DingTalkChannel(base=dingtalk.base, app_key="ding-key", app_secret="no", agent_id=3001)
    with pytest.raises(SendFailed, match="40089") as refused:
        await wrong.send("user-1", "x")
    await wrong.close()
    assert not refused.value.retryable
    channel = DingTalkChannel(
        base=dingtalk.base, app_key="ding-key", app_secret="ding-secret", agent_id=3001
    )
    dingtalk.busy = 1
    with pytest.raises(SendFailed) as busy:
        await channel.send("user-1", "x")
    await channel.close()
    assert busy.value.retryable


async def test_wecom_refreshes_an_expired_token_and_names_an_unknown_user(wecom: ChatApi) -> None:
    channel = WeComChannel(
        base=wecom.base, corp_id="ww-corp", corp_secret="ww-secret", agent_id=1000002
    )
    try:
        assert (await channel.send("zhangs", "新派单")).startswith("msg-")
        wecom.expire_tokens()  # answered with errcode 42001
        await channel.send("zhangs", "未接单提醒")
        with pytest.raises(SendFailed, match="81013") as unknown:
            await channel.send("nobody", "x")
    finally:
        await channel.close()
    assert not unknown.value.retryable
    assert wecom.texts_to("zhangs") == ["新派单", "未接单提醒"] and wecom.token_requests == 2


async def test_an_unreachable_api_is_retryable() -> None:
    channel = WeComChannel(base="http://127.0.0.1:9", corp_id="a", corp_secret="b", agent_id=1)
    with pytest.raises(SendFailed) as down:
        await channel.send("zhangs", "x")
    await channel.close()
    assert down.value.retryable
