"""Use cases of fixed cameras: an administrator registers a camera's RTSP URL and
credentials (sealed at rest, never shown back, never logged); the camera is pulled when
someone watches it, takes a snapshot of it or records it (`need`), and let go when
nobody does (feeds.video.pulling).
"""

from __future__ import annotations

from dataclasses import dataclass

from command_center.auth.model import Principal
from command_center.db.session import Database
from command_center.errors import NotFound
from command_center.telemetry import service as telemetry_service
from command_center.telemetry.model import Device, DeviceKind
from command_center.video import repository
from command_center.video.credentials import Sealer
from command_center.video.model import (
    CAMERA_ROLES,
    camera_url,
    check_role,
    check_watcher,
    with_credentials,
)
from feeds.video.model import StreamOwner
from feeds.video.pulling import CameraPuller, PulledCamera, PullStatus
from feeds.video.streams import VideoServer


@dataclass(frozen=True, slots=True)
class Camera:
    device: Device
    rtsp_url: str  # without credentials
    username: str | None
    has_password: bool
    pull: PullStatus


async def register(
    *,
    database: Database,
    sealer: Sealer,
    puller: CameraPuller,
    by: Principal,
    device_id: str,
    rtsp_url: str,
    username: str | None,
    password: str | None,
    squad_code: str | None,
    label: str,
) -> Camera:
    """Register or replace a camera (admins); a camera being read is read again with
    the new URL and credentials the next time it is needed."""
    check_role(by, CAMERA_ROLES, "registering a camera")
    url = camera_url(rtsp_url)
    async with database.transaction() as session:
        device = await telemetry_service.register(
            session=session,
            device_id=device_id,
            kind=DeviceKind.FIXED_CAMERA,
            squad_code=squad_code,
            label=label,
        )
        await repository.save_camera(
            session,
            device_id=device_id,
            rtsp_url=url,
            username=username or None,
            sealed_password=sealer.seal(password, device_id=device_id) if password else None,
            registered_by=by.as_actor(),
        )
    puller.stop(device_id)
    return Camera(device, url, username or None, bool(password), puller.status(device_id))


async def cameras(*, database: Database, puller: CameraPuller, by: Principal) -> list[Camera]:
    check_role(by, CAMERA_ROLES, "listing cameras")
    found = []
    async with database.sessions() as session:
        for row in await repository.list_cameras(session):
            device = await telemetry_service.get_device(session=session, device_id=row.device_id)
            found.append(_camera(device, row, puller))
    return found


async def camera(
    *, database: Database, puller: CameraPuller, by: Principal, device_id: str
) -> Camera:
    check_role(by, CAMERA_ROLES, "reading a camera")
    async with database.sessions() as session:
        row = await repository.get_camera(session, device_id)
        if row is None:
            raise NotFound(f"no camera {device_id}")
        device = await telemetry_service.get_device(session=session, device_id=device_id)
    return _camera(device, row, puller)


async def remove(
    *, database: Database, puller: CameraPuller, by: Principal, device_id: str
) -> None:
    check_role(by, CAMERA_ROLES, "removing a camera")
    async with database.transaction() as session:
        if not await repository.delete_camera(session, device_id):
            raise NotFound(f"no camera {device_id}")
    puller.stop(device_id)


async def need(
    *,
    database: Database,
    video: VideoServer,
    sealer: Sealer,
    puller: CameraPuller,
    by: Principal,
    stream: str,
    wait_seconds: float,
) -> None:
    """Someone in the camera's scope needs its picture: pull it if it is a registered
    camera that is not live yet. Nothing for any other stream; Forbidden outside the
    camera's scope (before the camera is bothered); Unavailable when it cannot be
    reached within `wait_seconds`, with the reason and the next attempt."""
    status = video.find(stream)
    if status is not None and status.connected:
        return
    async with database.sessions() as session:
        row = await repository.get_camera(session, stream)
        if row is None:
            return
        device = await telemetry_service.get_device(session=session, device_id=stream)
        scope = await telemetry_service.device_scope(session=session, device=device)
    check_watcher(by, stream, jurisdiction_path=scope, squad_code=device.squad_code)
    password = sealer.open(row.sealed_password, device_id=stream) if row.sealed_password else None
    owner = StreamOwner(
        device_id=device.id,
        kind=device.kind.value,
        label=device.label,
        squad_code=device.squad_code,
        jurisdiction_path=scope,
    )
    url = with_credentials(row.rtsp_url, row.username, password)
    await puller.want(PulledCamera(stream, owner, url), wait_seconds=wait_seconds)


def _camera(device: Device, row: repository.CameraRow, puller: CameraPuller) -> Camera:
    return Camera(
        device,
        row.rtsp_url,
        row.username,
        row.sealed_password is not None,
        puller.status(row.device_id),
    )
