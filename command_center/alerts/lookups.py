"""What planning and sending both look up: the clue, and how a staff member is reached."""

from __future__ import annotations

from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.alerts.model import ChannelName, Identities, QuietHours
from command_center.alerts.repository import Member
from command_center.auth.model import SYSTEM
from command_center.clues import service as clues_service
from command_center.clues.model import ClueRecord
from command_center.errors import NotFound
from command_center.privacy import mask_phone


async def clue_of(session: AsyncSession, clue_id: int) -> ClueRecord | None:
    try:
        return await clues_service.get_scoped(session=session, clue_id=clue_id, by=SYSTEM)
    except NotFound:
        return None


def identities_of(person: Member) -> Identities:
    preferred = person.preferred_channel
    return Identities(
        phone=person.phone,
        dingtalk_userid=person.dingtalk_userid,
        wecom_userid=person.wecom_userid,
        preferred=ChannelName(preferred) if preferred else None,
    )


def quiet_of(person: Member) -> QuietHours | None:
    if person.quiet_start is None or person.quiet_end is None:
        return None
    return QuietHours(naive(person.quiet_start), naive(person.quiet_end))


def naive(moment: time) -> time:
    return moment.replace(tzinfo=None)


def masked(person: Member, channel: ChannelName) -> str:
    address = identities_of(person).address(channel) or ""
    if channel is ChannelName.SMS:
        return mask_phone(address) or ""
    return address  # a work-app userid is the staff member's own, not a resident's number
