"""Use cases of positions: importing members with their devices, OsmAnd reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.errors import NotFound
from command_center.positions import repository
from command_center.positions.model import (
    OsmAndReport,
    new_tracker_id,
    parse_members_csv,
    tracker_digest,
)
from command_center.squads import service as squads_service
from command_center.tabular import refuse_if_errors
from command_center.telemetry import service as telemetry_service
from command_center.telemetry.model import DeviceKind, Report
from command_center.telemetry.plausibility import Plausibility

# One answer for an id no tracker has, whether it was never issued, was replaced, or is a
# device's public name: nothing tells a prober which ids exist.
UNKNOWN_TRACKER = "no tracker has this id; ask the command center for the member's id"


async def import_members_csv(*, session: AsyncSession, text_: str) -> str:
    """Members and their phones: each device is registered to the member's squad, so
    its positions count as the squad's, and a device without a tracker id gets one,
    listed once in the answer (`member device id` lines after the summary; nothing
    stores it in clear). ImportRefused (nothing stored) on any error."""
    members = parse_members_csv(text_)
    unknown = await squads_service.unknown(session=session, codes={m.squad_code for m in members})
    refuse_if_errors([f"unknown squad {code}" for code in sorted(unknown)])
    for member in members:
        if member.device_id:
            await telemetry_service.register(
                session=session,
                device_id=member.device_id,
                kind=DeviceKind.PHONE,
                squad_code=member.squad_code,
                label=member.code,
            )
        await repository.upsert(session, member)
    issued = []
    for member in members:
        if member.device_id and not await repository.has_tracker(session, member.device_id):
            tracker_id = await _issue(session, member.device_id)
            issued.append(f"{member.code} {member.device_id} {tracker_id}")
    summary = f"{len(members)} members, {sum(bool(m.device_id) for m in members)} devices"
    if not issued:
        return summary
    heading = "new OsmAnd ids, shown this once (set each as the id in the member's app):"
    return "\n".join([summary, heading, *issued])


async def issue_tracker_id(*, session: AsyncSession, member_code: str) -> tuple[str, str]:
    """A new secret OsmAnd id for the member's phone, (device, id); the old id stops
    working. NotFound when there is no such member or it carries no device."""
    device_id = await repository.device_of_member(session, member_code)
    if device_id is None:
        raise NotFound(f"no member {member_code} carrying a device")
    return device_id, await _issue(session, device_id)


async def _issue(session: AsyncSession, device_id: str) -> str:
    tracker_id = new_tracker_id()
    await repository.set_tracker_digest(session, device_id, tracker_digest(tracker_id))
    return tracker_id


async def report_osmand(
    *, session: AsyncSession, report: OsmAndReport, now: datetime, rule: Plausibility
) -> telemetry_service.Recorded:
    """Store one tracker report, judged by `rule`. `report.device_id` is the secret id
    issued for a member's phone; NotFound (UNKNOWN_TRACKER, the same for every wrong id)
    when no member's device has it."""
    device_id = await repository.device_of_tracker(session, tracker_digest(report.device_id))
    if device_id is None:
        raise NotFound(UNKNOWN_TRACKER)
    device = await telemetry_service.get_device(session=session, device_id=device_id)
    return await telemetry_service.record(
        session=session,
        rule=rule,
        device=device,
        reports=[
            Report(
                at=min(report.at, now),
                lon=report.lon,
                lat=report.lat,
                submitted_crs=report.crs,
                heading=report.heading,
                speed=report.speed_ms,
                altitude=report.altitude,
                battery=report.battery,
                accuracy=report.accuracy,
            )
        ],
    )
