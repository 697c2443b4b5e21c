"""Use cases of recordings: a stream's video to a file in RECORDINGS_DIR, its SHA-256 in
the `recordings` table and in a `stream.recording_saved` event (an event of the clue when
recorded for one). The file holds the camera's own encoded frames; see feeds.video.recorder.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from command_center.auth.model import Principal
from command_center.clues import service as clues_service
from command_center.db.session import Database
from command_center.errors import Conflict, DomainError
from command_center.realtime import outbox
from command_center.video import events, repository
from command_center.video.model import RECORD_ROLES, check_role
from command_center.video.service import visible
from feeds.video.model import StreamOwner
from feeds.video.recorder import MEDIA_TYPE, SUFFIX, Recorder, RecordingResult
from feeds.video.streams import VideoServer


def recording_path(directory: Path, stream: str, recording_id: int, started: datetime) -> Path:
    """`<dir>/<stream>/<stream>-<UTC start>-<id>.mkv`"""
    return directory / stream / f"{stream}-{started:%Y%m%dT%H%M%SZ}-{recording_id}{SUFFIX}"


async def start(
    *,
    database: Database,
    video: VideoServer,
    by: Principal,
    stream: str,
    clue_id: int | None,
    directory: Path,
) -> Recorder:
    """Start recording a stream (for a clue, if given); Conflict if it already records."""
    check_role(by, RECORD_ROLES, "recording")
    status = visible(video=video, by=by, stream=stream)
    if status.recording_file is not None:
        raise Conflict(f"stream {stream} is already being recorded")
    clue: dict[str, Any] | None = None
    started = datetime.now(UTC)
    async with database.transaction() as session:
        if clue_id is not None:
            record = await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
            clue = {
                "clue_id": record.id,
                "service_request_id": record.service_request_id,
                "jurisdiction_path": list(record.jurisdiction_path),
                "squad_code": record.squad_code,
            }
        recording_id = await repository.insert_recording(
            session,
            stream=stream,
            device_id=status.owner.device_id,
            clue_id=clue_id,
            file_name="",
            media_type=MEDIA_TYPE,
            started_at=started,
            started_by=by.as_actor(),
        )
        path = recording_path(directory, stream, recording_id, started)
        await repository.set_file_name(session, recording_id, path.name)
    finished = partial(
        _finished,
        database,
        recording_id=recording_id,
        stream=stream,
        owner=status.owner,
        clue=clue,
        started_by=by.as_actor(),
    )
    try:
        return video.start_recording(stream, path, finished)
    except DomainError:
        async with database.transaction() as session:
            await repository.delete_recording(session, recording_id)
        raise


async def stop(*, video: VideoServer, by: Principal, stream: str) -> RecordingResult:
    """Finish the recording; its hash is recorded before this returns."""
    check_role(by, RECORD_ROLES, "recording")
    visible(video=video, by=by, stream=stream)
    return await video.stop_recording(stream)


async def _finished(
    database: Database,
    result: RecordingResult,
    *,
    recording_id: int,
    stream: str,
    owner: StreamOwner,
    clue: dict[str, Any] | None,
    started_by: dict[str, Any],
) -> None:
    async with database.transaction() as session:
        await repository.finish_recording(
            session,
            recording_id,
            sha256=result.sha256,
            size_bytes=result.size_bytes,
            ended_at=result.ended_at,
        )
        event = events.recording_saved(
            result,
            recording_id=recording_id,
            stream=stream,
            owner=owner,
            clue=clue,
            started_by=started_by,
        )
        await outbox.record(session, [event])
