"""Use cases of devices and telemetry: registration, position reports, scoped reads.

Telemetry never enters the event log; a new latest position is pushed on the telemetry
bus after the caller's transaction commits (`broadcast`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal, Role
from command_center.errors import Forbidden, InvalidInput, NotFound
from command_center.squads import service as squads_service
from command_center.telemetry import repository
from command_center.telemetry.bus import TelemetryBus, Update
from command_center.telemetry.model import (
    DEFAULT_KIND,
    Device,
    DeviceKind,
    Position,
    Report,
    position_body,
)
from command_center.telemetry.plausibility import Fix, Plausibility, judge

STALE_AFTER_HOURS = 12.0  # positions older than this are not on a fresh wall screen
WATCHERS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.SQUAD, Role.GRID_WORKER})

# Where a device's live stream is, if it has one: {"name", "state", "whep"} or None.
StreamLookup = Callable[[str], dict[str, Any] | None]


def require_device(principal: Principal) -> str:
    if principal.role is not Role.DEVICE or principal.device is None:
        raise Forbidden("only a device token reports telemetry")
    return principal.device


def require_watcher(principal: Principal) -> None:
    if principal.role not in WATCHERS:
        raise Forbidden("this token cannot watch live positions")


async def ensure_device(*, session: AsyncSession, by: Principal) -> Device:
    """The calling device, registered on first contact with its token's squad."""
    device_id = require_device(by)
    return await repository.ensure_device(
        session, device_id, kind=DEFAULT_KIND, squad_code=by.squad
    )


async def register(
    *,
    session: AsyncSession,
    device_id: str,
    kind: DeviceKind,
    squad_code: str | None,
    label: str,
) -> Device:
    """Create or change a device (admins). InvalidInput for an unknown squad."""
    if squad_code is not None and not await squads_service.exists(session=session, code=squad_code):
        raise InvalidInput(f"unknown squad {squad_code}")
    return await repository.register(session, Device(device_id, kind, squad_code, label.strip()))


async def get_device(*, session: AsyncSession, device_id: str) -> Device:
    device = await repository.get_device(session, device_id)
    if device is None:
        raise NotFound(f"no device {device_id}")
    return device


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a report did: the device's new latest position (None: it did not move) and
    how many of its points were recorded as suspect."""

    position: Position | None
    suspect: int


async def record(
    *, session: AsyncSession, device: Device, reports: list[Report], rule: Plausibility
) -> Recorded:
    """Store a device's points in the caller's transaction, each judged by `rule`
    (telemetry/plausibility.py): suspect points are kept with their reason but never move
    the device, so dispatch and the wall see only believed ones. The position is None
    when no believed point is newer than the one already known."""
    if not reports:
        return Recorded(None, 0)
    ordered = sorted(reports, key=lambda r: r.at)
    inside = await repository.inside_area(
        session, [(r.lon, r.lat) for r in ordered], margin_m=rule.area_margin_m
    )
    last = await repository.last_position(session, device)
    believed = None if last is None else Fix(last.at, last.lon, last.lat)
    verdicts = judge(
        [Fix(r.at, r.lon, r.lat) for r in ordered], inside=inside, believed=believed, rule=rule
    )
    position = await repository.record(session, device, ordered, verdicts)
    return Recorded(position, sum(v is not None for v in verdicts))


async def broadcast(*, bus: TelemetryBus, position: Position | None, streams: StreamLookup) -> None:
    """Push a committed latest position to every watcher whose scope includes it."""
    if position is not None:
        await bus.publish(position_update(position, streams(position.device.id)))


def position_update(position: Position, stream: dict[str, Any] | None) -> Update:
    return Update(
        key=f"position:{position.device.id}",
        body=position_body(position, stream),
        jurisdiction_path=position.scope_path,
        squad_codes=position.squad_codes(),
    )


async def last_position(*, session: AsyncSession, device: Device) -> Position | None:
    return await repository.last_position(session, device)


async def device_scope(*, session: AsyncSession, device: Device) -> tuple[str, ...]:
    """Who oversees a device: the jurisdictions its squad serves (with their ancestors)
    and the one it was last seen in."""
    paths: set[str] = set()
    if device.squad_code:
        paths.update(await repository.squad_paths(session, device.squad_code))
    position = await repository.last_position(session, device)
    if position is not None:
        paths.update(position.scope_path)
    return tuple(sorted(paths))


async def positions_in_scope(*, session: AsyncSession, by: Principal) -> list[Position]:
    """Fresh last positions a watcher may see: a squad its own devices, everyone else the
    devices in (or serving) their jurisdiction."""
    require_watcher(by)
    return await repository.positions(
        session,
        jurisdiction=by.jurisdiction,
        squad=by.squad if by.role is Role.SQUAD else None,
        since_hours=STALE_AFTER_HOURS,
    )


async def devices_in_scope(
    *, session: AsyncSession, by: Principal
) -> list[tuple[Device, Position | None]]:
    require_watcher(by)
    return await repository.devices(
        session,
        jurisdiction=by.jurisdiction,
        squad=by.squad if by.role is Role.SQUAD else None,
    )
