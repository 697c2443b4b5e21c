"""Use cases of live video: publish and watch with scope checks, snapshots as evidence,
clues from video, recordings.

Media never waits for the database: a snapshot is taken before its transaction opens,
and stream events are written by `StreamEvents`, the observer of the video server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal, Role
from command_center.clues import service as clues_service
from command_center.clues.model import Channel, ClueRecord, Submission
from command_center.db.session import Database
from command_center.errors import Forbidden, InvalidInput
from command_center.evidence import service as evidence_service
from command_center.evidence.model import Evidence, Kind, NewEvidence
from command_center.evidence.storage import MediaStore
from command_center.telemetry import service as telemetry_service
from command_center.telemetry.model import Position
from command_center.video.model import (
    CLUE_ROLES,
    EVIDENCE_ROLES,
    WATCH_ROLES,
    check_publisher,
    check_role,
    check_watcher,
    may_watch,
)
from command_center.video.schemas import FrameMark, VideoClueIn
from feeds.video.model import StreamOwner, StreamStatus
from feeds.video.sessions import PublisherSession, ViewerSession
from feeds.video.snapshot import Snapshot
from feeds.video.streams import VideoServer
from gis.crs import CoordinateError, to_wgs84

# --- publishing and watching -----------------------------------------------------------


async def publish(
    *, database: Database, video: VideoServer, by: Principal, stream: str, offer: str
) -> PublisherSession:
    """A device publishes its own stream; it is registered on first contact."""
    check_publisher(by, stream)
    owner = await _owner(database, by)
    return await video.publish(stream, owner, offer)


async def publish_rtmp(
    *,
    database: Database,
    video: VideoServer,
    by: Principal,
    stream: str,
    read_url: str,
    client_id: str,
) -> None:
    """A device's RTMP push that nginx asks about: accepted for the device's own stream,
    which is then read from nginx at `read_url`/<stream> (Unavailable at the limit)."""
    check_publisher(by, stream)
    owner = await _owner(database, by)
    video.ingest_rtmp(stream, owner, url=f"{read_url.rstrip('/')}/{stream}", client_id=client_id)


def end_rtmp(*, video: VideoServer, by: Principal, stream: str, client_id: str) -> bool:
    """nginx says a push ended; the stream ends if that push still publishes it."""
    check_publisher(by, stream)
    return video.end_rtmp(stream, client_id)


async def _owner(database: Database, by: Principal) -> StreamOwner:
    async with database.transaction() as session:
        device = await telemetry_service.ensure_device(session=session, by=by)
        scope = await telemetry_service.device_scope(session=session, device=device)
    return StreamOwner(
        device_id=device.id,
        kind=device.kind.value,
        label=device.label,
        squad_code=device.squad_code,
        jurisdiction_path=scope,
    )


def may_publish(*, by: Principal, stream: str) -> None:
    """Forbidden unless `by` is the device the stream is named after."""
    check_publisher(by, stream)


def end_publishing(*, video: VideoServer, by: Principal, stream: str, session_id: str) -> None:
    check_publisher(by, stream)
    video.end_publishing(stream, session_id)


async def watch(*, video: VideoServer, by: Principal, stream: str, offer: str) -> ViewerSession:
    visible(video=video, by=by, stream=stream)
    return await video.watch(stream, offer, subject=by.subject)


def end_viewing(*, video: VideoServer, by: Principal, stream: str, session_id: str) -> None:
    viewer = video.viewer_session(stream, session_id)
    if viewer.subject != by.subject and by.role is not Role.ADMIN:
        raise Forbidden("this viewing session belongs to someone else")
    video.end_viewing(stream, session_id)


def visible(*, video: VideoServer, by: Principal, stream: str) -> StreamStatus:
    """A stream the caller may watch; NotFound or Forbidden otherwise."""
    status = video.status(stream)
    owner = status.owner
    check_watcher(
        by, stream, jurisdiction_path=owner.jurisdiction_path, squad_code=owner.squad_code
    )
    return status


def visible_streams(*, video: VideoServer, by: Principal) -> list[StreamStatus]:
    check_role(by, WATCH_ROLES, "watching streams")
    return [
        s
        for s in video.statuses()
        if may_watch(by, jurisdiction_path=s.owner.jurisdiction_path, squad_code=s.owner.squad_code)
    ]


async def positions(
    *, database: Database, statuses: list[StreamStatus]
) -> dict[str, Position | None]:
    """The last reported position of each stream's device."""
    found: dict[str, Position | None] = {}
    async with database.sessions() as session:
        for status in statuses:
            device = await telemetry_service.get_device(
                session=session, device_id=status.owner.device_id
            )
            found[status.name] = await telemetry_service.last_position(
                session=session, device=device
            )
    return found


# --- evidence and clues from video -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoClue:
    clue: ClueRecord
    evidence: Evidence


async def snapshot_to_clue(
    *,
    database: Database,
    store: MediaStore,
    video: VideoServer,
    by: Principal,
    stream: str,
    clue_id: int,
    note: str | None = None,
) -> Evidence:
    """Take a frame now and attach it to a clue as a JPEG, with its hash in the record."""
    check_role(by, EVIDENCE_ROLES, "attaching a snapshot")
    status = visible(video=video, by=by, stream=stream)
    async with database.sessions() as session:  # fail before bothering the camera
        await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
    shot = await video.snapshot(stream)
    async with database.transaction() as session:
        clue = await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
        position = await _device_position(session, status)
        return await evidence_service.attach(
            session=session,
            store=store,
            clue=clue,
            item=_snapshot_evidence(clue.id, shot, status, position, by=by, note=note),
        )


async def clue_from_video(
    *,
    database: Database,
    store: MediaStore,
    video: VideoServer,
    by: Principal,
    stream: str,
    report: VideoClueIn,
    zone: ZoneInfo,
    code_prefix: str,
) -> VideoClue:
    """A clue marked on a live view: it goes through intake and dispatch like any other,
    with the frame as its first evidence. InvalidInput when no position is known."""
    check_role(by, CLUE_ROLES, "reporting a clue from video")
    status = visible(video=video, by=by, stream=stream)
    shot = await video.snapshot(stream)
    async with database.transaction() as session:
        position = await _device_position(session, status)
        lon, lat, crs = _where(report, position, stream)
        submission = Submission(
            channel=Channel.VIDEO,
            matter_code=report.matter_code,
            lon=lon,
            lat=lat,
            submitted_crs=crs,
            description=report.description.strip(),
            device_id=status.owner.device_id,
        )
        result = await clues_service.submit(
            session=session, submission=submission, by=by, zone=zone, code_prefix=code_prefix
        )
        clue = await clues_service.get_scoped(session=session, clue_id=result.clue_id, by=by)
        evidence = await evidence_service.attach(
            session=session,
            store=store,
            clue=clue,
            item=_snapshot_evidence(clue.id, shot, status, position, by=by, mark=report.mark),
        )
        clue = await clues_service.get_scoped(session=session, clue_id=result.clue_id, by=by)
    return VideoClue(clue, evidence)


async def _device_position(session: AsyncSession, status: StreamStatus) -> Position | None:
    device = await telemetry_service.get_device(session=session, device_id=status.owner.device_id)
    return await telemetry_service.last_position(session=session, device=device)


def _where(report: VideoClueIn, position: Position | None, stream: str) -> tuple[float, float, str]:
    if report.lon is not None and report.lat is not None:
        try:
            lon, lat = to_wgs84(report.lon, report.lat, report.crs)
        except CoordinateError as exc:
            raise InvalidInput(str(exc)) from None
        return lon, lat, report.crs
    if position is None:
        raise InvalidInput(
            f"give lon and lat: the device of stream {stream} has not reported a position"
        )
    return position.lon, position.lat, "wgs84"


def _snapshot_evidence(
    clue_id: int,
    shot: Snapshot,
    status: StreamStatus,
    position: Position | None,
    *,
    by: Principal,
    note: str | None = None,
    mark: FrameMark | None = None,
) -> NewEvidence:
    codec = shot.codec.split("/")[-1]
    parts = [f"frame of live stream {status.name}, {shot.width}×{shot.height} {codec}"]
    if position is not None:
        parts.append(f"device position reported at {position.at.astimezone(UTC):%H:%M:%SZ}")
    if mark is not None:
        parts.append(f"marked at x={mark.x:.3f}, y={mark.y:.3f} of the frame")
    if note:
        parts.append(note.strip())
    return NewEvidence(
        clue_id=clue_id,
        kind=Kind.SNAPSHOT,
        media_type="image/jpeg",
        content=shot.jpeg,
        added_by=by.as_actor(),
        taken_at=shot.taken_at,
        device_id=status.owner.device_id,
        lon=position.lon if position else None,
        lat=position.lat if position else None,
        note="; ".join(parts),
    )
