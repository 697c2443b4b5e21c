"""Use cases of positions: importing members with their devices, OsmAnd reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.errors import NotFound
from command_center.positions import repository
from command_center.positions.model import OsmAndReport, parse_members_csv
from command_center.squads import service as squads_service
from command_center.tabular import refuse_if_errors
from command_center.telemetry import service as telemetry_service
from command_center.telemetry.model import DeviceKind, Position, Report


async def import_members_csv(*, session: AsyncSession, text_: str) -> str:
    """Members and their phones: each device is registered to the member's squad, so
    its positions count as the squad's. ImportRefused (nothing stored) on any error."""
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
    return f"{len(members)} members, {sum(bool(m.device_id) for m in members)} devices"


async def report_osmand(
    *, session: AsyncSession, report: OsmAndReport, now: datetime
) -> Position | None:
    """Store one tracker report; NotFound for a device no member carries."""
    if not await repository.carries_device(session, report.device_id):
        raise NotFound(f"unknown device {report.device_id}: import it with its member first")
    device = await telemetry_service.get_device(session=session, device_id=report.device_id)
    return await telemetry_service.record(
        session=session,
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
