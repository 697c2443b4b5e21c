"""The alert worker: the channels a deployment configured, and the round that plans and
sends, in every server process (attempts are shared out by their row locks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from command_center.alerts import cmpp, repository, service
from command_center.alerts.chat import DingTalkChannel, WeComChannel
from command_center.alerts.lookups import identities_of
from command_center.alerts.model import (
    AlertPolicy,
    Channel,
    ChannelName,
    QuietHours,
    SendFailed,
    Texts,
    channel_ladder,
    is_opt_out,
)
from command_center.alerts.sms import CmppChannel
from command_center.db.session import Database
from command_center.errors import NotFound
from command_center.periodic import Periodic
from command_center.settings import Settings


def policy_of(settings: Settings) -> AlertPolicy:
    return AlertPolicy(
        texts=Texts(signature=settings.sms_signature, base_url=settings.public_base_url),
        zone=settings.zone,
        key=settings.signing_key(),
        escalate_after=timedelta(seconds=settings.alert_escalate_after_seconds),
        max_tries=settings.alert_max_tries,
        reporter_per_day=settings.reporter_sms_per_day,
        reporter_quiet=QuietHours.parse(settings.reporter_quiet_hours),
    )


def channels_of(settings: Settings, clock: Callable[[], datetime]) -> dict[ChannelName, Channel]:
    """The channels whose settings are complete; the others are off."""
    channels: dict[ChannelName, Channel] = {}
    s = settings
    if s.sms_cmpp_host and s.sms_cmpp_sp_id and s.sms_cmpp_secret and s.sms_cmpp_src_id:
        channels[ChannelName.SMS] = CmppChannel(
            host=s.sms_cmpp_host,
            port=s.sms_cmpp_port,
            sp_id=s.sms_cmpp_sp_id,
            secret=s.sms_cmpp_secret.get_secret_value(),
            src_id=s.sms_cmpp_src_id,
            service_id=s.sms_cmpp_service_id,
            clock=lambda: clock().astimezone(s.zone),  # the authenticator's local time
        )
    if s.dingtalk_app_key and s.dingtalk_app_secret and s.dingtalk_agent_id is not None:
        channels[ChannelName.DINGTALK] = DingTalkChannel(
            base=s.dingtalk_api_base,
            app_key=s.dingtalk_app_key,
            app_secret=s.dingtalk_app_secret.get_secret_value(),
            agent_id=s.dingtalk_agent_id,
        )
    if s.wecom_corp_id and s.wecom_corp_secret and s.wecom_agent_id is not None:
        channels[ChannelName.WECOM] = WeComChannel(
            base=s.wecom_api_base,
            corp_id=s.wecom_corp_id,
            corp_secret=s.wecom_corp_secret.get_secret_value(),
            agent_id=s.wecom_agent_id,
        )
    return channels


class AlertWorker(Periodic):
    """Plans and sends alerts every `alert_poll_seconds`; hears CMPP status reports and
    replies (退订) on the SMS channel's connection."""

    def __init__(
        self, *, database: Database, settings: Settings, clock: Callable[[], datetime]
    ) -> None:
        self.channels = channels_of(settings, clock)
        self._database = database
        self._policy = policy_of(settings)
        sms = self.channels.get(ChannelName.SMS)
        if isinstance(sms, CmppChannel):
            sms.on_report = self._on_report
            sms.on_reply = self._on_reply
        super().__init__(
            "alerts",
            service.clock_round(database, policy=self._policy, channels=self.channels, clock=clock),
            poll_seconds=settings.alert_poll_seconds,
        )

    async def stop(self) -> None:
        await super().stop()
        for channel in self.channels.values():
            await channel.close()

    async def _on_report(self, report: cmpp.StatusReport) -> None:
        await service.record_receipt(
            self._database,
            channel=ChannelName.SMS,
            provider_id=str(report.msg_id),
            status=report.stat,
            delivered=report.delivered,
        )

    async def _on_reply(self, phone: str, words: str) -> None:
        if is_opt_out(words):
            await service.record_opt_out(self._database, policy=self._policy, phone=phone)


async def send_test(
    *, database: Database, settings: Settings, login: str
) -> list[tuple[str, str, bool]]:
    """A test message to the account `login` on every configured channel it has an
    address for: (channel, what happened, whether it was sent). NotFound for an unknown
    or disabled account. Nothing is recorded (no clue is concerned)."""
    channels = channels_of(settings, lambda: datetime.now(UTC))
    outcomes: list[tuple[str, str, bool]] = []
    try:
        async with database.sessions() as session:
            person = await repository.member_by_login(session, login.strip().lower())
        if person is None:
            raise NotFound(f"no active account {login}")
        text = f"{settings.sms_signature}测试消息：指挥中心的提醒可以送达您。"
        who = identities_of(person)
        for name in channel_ladder(who, channels):
            address = who.address(name)
            assert address is not None
            try:
                provider_id = await channels[name].send(address, text)
            except SendFailed as exc:
                outcomes.append((name.value, f"failed: {exc}", False))
            else:
                outcomes.append((name.value, f"sent ({provider_id})", True))
    finally:
        for channel in channels.values():
            await channel.close()
    return outcomes
