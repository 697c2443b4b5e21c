"""Who is alerted on which channel, when quiet hours hold, and what a text may say."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from command_center.alerts.model import (
    ChannelName,
    Identities,
    QuietHours,
    Step,
    Texts,
    backoff_seconds,
    channel_ladder,
    is_opt_out,
    recipient_key,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ALL = set(ChannelName)
TEXTS = Texts(signature="【城管执法】", base_url="https://cc.example.cn")


def test_the_preferred_channel_comes_first_then_the_work_apps_then_sms() -> None:
    everything = Identities("13800138000", "ding-1", "wecom-1", ChannelName.SMS)
    assert channel_ladder(everything, ALL) == ["sms", "dingtalk", "wecom"]
    no_preference = Identities("13800138000", "ding-1", "wecom-1")
    assert channel_ladder(no_preference, ALL) == ["dingtalk", "wecom", "sms"]


def test_channels_that_are_off_or_without_an_address_are_left_out() -> None:
    phone_only = Identities("13800138000", None, None, ChannelName.DINGTALK)
    assert channel_ladder(phone_only, ALL) == ["sms"]
    assert channel_ladder(phone_only, {ChannelName.WECOM}) == []


def test_quiet_hours_across_midnight_hold_until_the_morning() -> None:
    window = QuietHours.parse("22:00-07:00")
    assert window == QuietHours(time(22), time(7)) and str(window) == "22:00-07:00"
    late = datetime(2026, 12, 3, 23, 30, tzinfo=SHANGHAI)
    assert window.release(late, SHANGHAI) == datetime(2026, 12, 4, 7, 0, tzinfo=SHANGHAI)
    early = datetime(2026, 12, 4, 5, 0, tzinfo=SHANGHAI).astimezone(UTC)
    assert window.release(early, SHANGHAI) == datetime(2026, 12, 4, 7, 0, tzinfo=SHANGHAI)
    assert window.release(datetime(2026, 12, 4, 12, 0, tzinfo=SHANGHAI), SHANGHAI) is None


def test_a_daytime_window_and_bad_windows() -> None:
    lunch = QuietHours.parse("12:00-13:30")
    assert lunch is not None
    assert lunch.release(datetime(2026, 12, 4, 12, 10, tzinfo=SHANGHAI), SHANGHAI) == datetime(
        2026, 12, 4, 13, 30, tzinfo=SHANGHAI
    )
    assert QuietHours.parse("  ") is None
    for bad in ("22:00", "25:00-07:00", "07:00-07:00"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)


def test_texts_carry_the_case_and_a_link_never_a_residents_name_or_number() -> None:
    member = TEXTS.dispatch(
        case="LS20261203-0007", matter="流动摊贩占道经营", clue_id=7, again=False
    )
    assert member.startswith("【城管执法】新派单")
    assert "https://cc.example.cn/console/squad?clue=7" in member
    again = TEXTS.dispatch(case="LS20261203-0007", matter="流动摊贩占道经营", clue_id=7, again=True)
    assert "未接单" in again
    for step in (Step.REGISTERED, Step.HANDLED, Step.CLOSED):
        words = TEXTS.reporter(step, progress_code="483920175")
        assert "483920175" in words and "/track/483920175" in words and "TD" in words
        assert words.startswith("【城管执法】")


def test_the_ladders_texts_link_the_squad_page_or_the_desk() -> None:
    reminder = TEXTS.ladder(Step.REMINDER, case="LS-7", matter="占道", squad="LD-01", clue_id=7)
    assert "提醒函" in reminder and reminder.endswith("/console/squad?clue=7")
    order = TEXTS.ladder(
        Step.SUPERVISION_ORDER, case="LS-7", matter="占道", squad="LD-01", clue_id=7
    )
    assert "督办单" in order and "LD-01" in order and order.endswith("/console/dispatch?clue=7")
    assert "督办升级" in TEXTS.ladder(
        Step.ESCALATED, case="LS-7", matter="占道", squad="LD-01", clue_id=7
    )


def test_opt_out_words() -> None:
    assert is_opt_out("TD") and is_opt_out(" td ") and is_opt_out("退订")
    assert not is_opt_out("谢谢")


def test_backoff_doubles_to_ten_minutes() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff_seconds(40) == 600


def test_a_reporters_key_matches_the_number_and_shows_none_of_it() -> None:
    key = recipient_key("k" * 32, "138 0013 8000")
    assert key == recipient_key("k" * 32, "+86 13800138000")
    assert "8000" not in key and key != recipient_key("j" * 32, "13800138000")


def test_the_work_apps_credentials_never_reach_a_log_line() -> None:
    from command_center.logs import scrub

    line = (
        "HTTP Request: GET https://oapi.dingtalk.com/gettoken?appkey=dingkey&appsecret=S3CR3T "
        "POST https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=T0K3N "
        "GET https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=C0RP"
    )
    cleaned = scrub(line)
    assert not {"S3CR3T", "T0K3N", "C0RP"} & set(cleaned.replace("=", " ").split())
    assert "appkey=dingkey" in cleaned and "corpid=ww1" in cleaned


def test_a_url_object_in_a_log_record_is_scrubbed_too() -> None:
    import logging

    import httpx

    from command_center.logs import redact

    url = httpx.URL("https://oapi.dingtalk.com/gettoken?appkey=k&appsecret=S3CR3T")
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "HTTP Request: %s %s", ("GET", url), None
    )
    redact(record)
    assert "S3CR3T" not in record.getMessage() and "appkey=k" in record.getMessage()
