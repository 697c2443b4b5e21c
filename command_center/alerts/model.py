"""Who is alerted how, and what the message says. No I/O.

A channel (SMS over CMPP, DingTalk work notifications, WeCom application messages)
takes an address of its kind (a phone number, a DingTalk or WeCom userid) and a text,
and answers the provider's message id or raises `SendFailed`. Texts never carry a
resident's name, number or words: a member gets the case number, the matter and a link
to the squad phone page; a reporter gets the progress code and the link to follow it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

MAX_BACKOFF_SECONDS = 600


class ChannelName(StrEnum):
    SMS = "sms"
    DINGTALK = "dingtalk"
    WECOM = "wecom"


# The order in which a member's other channels are tried after the preferred one: the
# work apps first (free, with a link that opens the page), SMS last.
FALLBACK_ORDER = (ChannelName.DINGTALK, ChannelName.WECOM, ChannelName.SMS)


class Step(StrEnum):
    DISPATCH = "dispatch"  # a squad got the clue: its members, on their first channel
    ESCALATION = "escalation"  # not accepted in time: the second channel
    REGISTERED = "registered"  # the reporter: the tip is in
    HANDLED = "handled"  # the reporter: the squad has dealt with it
    CLOSED = "closed"  # the reporter: the case is closed
    REMINDER = "reminder"  # the ladder's 提醒函: the squad's members
    SUPERVISION_ORDER = "supervision_order"  # the ladder's 督办单: the leaders
    ESCALATED = "escalated"  # the ladder's top rung: the leaders, on two channels


LADDER_STEPS = {
    "clue.reminder": Step.REMINDER,
    "clue.supervision_order": Step.SUPERVISION_ORDER,
    "clue.escalated": Step.ESCALATED,
}

REPORTER_STEPS = {
    "clue.received": Step.REGISTERED,
    "clue.handled": Step.HANDLED,
    "clue.closed": Step.CLOSED,
}


class SendFailed(Exception):
    """A channel could not send. `retryable`: worth another try later (a timeout, a
    closed connection, flow control); else never (an unknown user, a refused number).
    The message is for the attempt's record and holds no address."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.retryable = retryable


class Channel(Protocol):
    name: ChannelName

    async def send(self, address: str, text: str) -> str:
        """Send `text` to `address`; the provider's message id. SendFailed otherwise."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Identities:
    """How one account can be reached, and how it likes to be."""

    phone: str | None
    dingtalk_userid: str | None
    wecom_userid: str | None
    preferred: ChannelName | None = None

    def address(self, channel: ChannelName) -> str | None:
        return {
            ChannelName.SMS: self.phone,
            ChannelName.DINGTALK: self.dingtalk_userid,
            ChannelName.WECOM: self.wecom_userid,
        }[channel]


def channel_ladder(who: Identities, available: Iterable[ChannelName]) -> list[ChannelName]:
    """The channels to try for `who`, in order: the preferred one (when it is on and the
    account has an address for it), then the others in FALLBACK_ORDER."""
    usable = set(available)
    order = ([who.preferred] if who.preferred else []) + list(FALLBACK_ORDER)
    return [c for c in dict.fromkeys(order) if c in usable and who.address(c)]


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window, local time, when a person is not disturbed; it may span midnight
    (22:00-07:00). An alert due inside is held until its end."""

    start: time
    end: time

    @classmethod
    def parse(cls, value: str) -> QuietHours | None:
        """`HH:MM-HH:MM`, or None for an empty value; ValueError otherwise."""
        value = value.strip()
        if not value:
            return None
        start, sep, end = value.partition("-")
        if not sep:
            raise ValueError(f"quiet hours {value!r} are not HH:MM-HH:MM")
        window = cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        if window.start == window.end:
            raise ValueError("quiet hours must not start and end at the same time")
        return window

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def release(self, moment: datetime, zone: ZoneInfo) -> datetime | None:
        """When the window around `moment` ends, or None when `moment` is outside it."""
        local = moment.astimezone(zone)
        now = local.time().replace(tzinfo=None)
        if self.start < self.end:
            inside = self.start <= now < self.end
            day = local.date()
        else:
            inside = now >= self.start or now < self.end
            day = local.date() + timedelta(days=1) if now >= self.start else local.date()
        if not inside:
            return None
        return datetime.combine(day, self.end, tzinfo=zone)


def local_day_start(moment: datetime, zone: ZoneInfo) -> datetime:
    """Midnight of the local day of `moment` (the daily cap counts from here)."""
    local = moment.astimezone(zone)
    return datetime.combine(local.date(), time(), tzinfo=zone)


def backoff_seconds(tries: int) -> int:
    """After the n-th failed try: 2 s, 4 s, 8 s … at most ten minutes."""
    return int(min(MAX_BACKOFF_SECONDS, 2 ** max(tries, 1)))


def recipient_key(secret: str, phone: str) -> str:
    """A reporter's number as the records keep it: counts and opt-outs match on it, and
    it opens nothing without the service's key."""
    digits = "".join(ch for ch in phone if ch.isdigit())[-11:]
    return "tel:" + hmac.new(secret.encode(), digits.encode(), hashlib.sha256).hexdigest()[:32]


def member_key(user_id: int) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True, slots=True)
class Texts:
    """The words of the messages. `signature`: the 【签名】 Chinese SMS rules put first;
    `base_url`: where people reach this service."""

    signature: str
    base_url: str

    def squad_link(self, clue_id: int) -> str:
        return f"{self.base_url}/console/squad?clue={clue_id}"

    def track_link(self, progress_code: str) -> str:
        return f"{self.base_url}/track/{progress_code}"

    def dispatch(self, *, case: str, matter: str, clue_id: int, again: bool) -> str:
        lead = "未接单提醒：" if again else "新派单："
        return (
            f"{self.signature}{lead}案件{case}（{matter}），请打开队员页接单 "
            f"{self.squad_link(clue_id)}"
        )

    def desk_link(self, clue_id: int) -> str:
        return f"{self.base_url}/console/dispatch?clue={clue_id}"

    def ladder(self, step: Step, *, case: str, matter: str, squad: str, clue_id: int) -> str:
        """The supervision ladder's rungs: a reminder to the squad, an order and an
        escalation to the leaders."""
        if step is Step.REMINDER:
            return (
                f"{self.signature}提醒函：案件{case}（{matter}）临近办理期限，请抓紧办理 "
                f"{self.squad_link(clue_id)}"
            )
        what = "督办单" if step is Step.SUPERVISION_ORDER else "督办升级"
        return (
            f"{self.signature}{what}：案件{case}（{matter}）已超期未办结，承办{squad}，"
            f"请督促办理 {self.desk_link(clue_id)}"
        )

    def reporter(self, step: Step, *, progress_code: str) -> str:
        what = {
            Step.REGISTERED: "已登记受理",
            Step.HANDLED: "已处置，待核查",
            Step.CLOSED: "已办结，感谢您的参与",
        }[step]
        return (
            f"{self.signature}您反映的问题{what}。进度码{progress_code}，查看："
            f"{self.track_link(progress_code)} 回复TD退订"
        )


OPT_OUT_WORDS = frozenset({"TD", "T", "N", "退订", "退定", "0000"})


def is_opt_out(words: str) -> bool:
    """A reply that means 'stop texting me' (退订, TD…), as Chinese SMS rules require."""
    return words.strip().upper() in OPT_OUT_WORDS


def over_cap(sent_today: int, cap: int) -> bool:
    return sent_today >= cap


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    texts: Texts
    zone: ZoneInfo
    key: str  # keys the HMAC of reporters' numbers
    escalate_after: timedelta
    max_tries: int
    reporter_per_day: int
    reporter_quiet: QuietHours | None = None
