"""Use cases of recordings: a stream's video to a file in RECORDINGS_DIR, its SHA-256 in
the `recordings` table and in a `stream.recording_saved` event (an event of the clue when
recorded for one). The file holds the camera's own encoded frames; see feeds.video.recorder.

Once its hash is recorded, the file is streamed into the evidence store (the local folder
or the shared bucket, area `recordings`, keyed by that hash), its key kept in the row, and
the local file removed: any host then serves it (`file`). When the upload fails the file
stays in RECORDINGS_DIR and is served from there by the host that recorded it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from command_center.auth.model import Principal
from command_center.clues import service as clues_service
from command_center.db.session import Database
from command_center.errors import Conflict, Damaged, DomainError, NotFound
from command_center.evidence.storage import MediaStore, file_sha256
from command_center.realtime import outbox
from command_center.telemetry import service as telemetry_service
from command_center.video import events, repository
from command_center.video.model import RECORD_ROLES, check_role, check_watcher
from command_center.video.service import visible
from feeds.video.model import StreamOwner
from feeds.video.recorder import MEDIA_TYPE, SUFFIX, Recorder, RecordingResult
from feeds.video.streams import VideoServer

log = logging.getLogger(__name__)
STORE_AREA = "recordings"


@dataclass(frozen=True, slots=True)
class Started:
    recording_id: int
    recorder: Recorder


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
    store: MediaStore,
) -> Started:
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
        store,
        recording_id=recording_id,
        stream=stream,
        owner=status.owner,
        clue=clue,
        started_by=by.as_actor(),
    )
    try:
        return Started(recording_id, video.start_recording(stream, path, finished))
    except DomainError:
        async with database.transaction() as session:
            await repository.delete_recording(session, recording_id)
        raise


async def stop(
    *, database: Database, video: VideoServer, by: Principal, stream: str
) -> tuple[int | None, RecordingResult]:
    """Finish the recording; its hash is recorded, and the file stored, before this
    returns. The recording's id comes along."""
    check_role(by, RECORD_ROLES, "recording")
    visible(video=video, by=by, stream=stream)
    result = await video.stop_recording(stream)
    async with database.sessions() as session:
        return await repository.recording_id(session, result.path.name), result


async def _finished(
    database: Database,
    store: MediaStore,
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

    await _store(database, store, result, recording_id)


async def _store(
    database: Database, store: MediaStore, result: RecordingResult, recording_id: int
) -> None:
    """Stream the finished file into the evidence store; keep it here if that fails."""
    try:
        key = await asyncio.to_thread(
            store.put_file, result.path, MEDIA_TYPE, area=STORE_AREA, sha256=result.sha256
        )
    except Exception as exc:
        log.warning(
            "recording %d stays in RECORDINGS_DIR: storing it failed (%s)",
            recording_id,
            type(exc).__name__,
        )
        return
    async with database.transaction() as session:
        await repository.set_store_key(session, recording_id, key)
    result.path.unlink(missing_ok=True)


@contextmanager
def _local(path: Path, sha256: str) -> Iterator[Path]:
    if file_sha256(path) != sha256:
        log.error("recording file %s fails its SHA-256 check; not served", path.name)
        raise Damaged("the recording fails its integrity check and is not served")
    yield path


async def file(
    *, database: Database, store: MediaStore, by: Principal, recording_id: int, directory: Path
) -> tuple[repository.RecordingRow, Any]:
    """A finished recording and a context giving its checked file: from the evidence
    store (any host), or from RECORDINGS_DIR on the host that recorded it if it has not
    reached the store. NotFound, Forbidden outside the device's scope, Damaged."""
    check_role(by, RECORD_ROLES, "reading recordings")
    async with database.sessions() as session:
        row = await repository.get_recording(session, recording_id)
        if row is None or row.sha256 is None:
            raise NotFound(f"no finished recording {recording_id}")
        device = await telemetry_service.get_device(session=session, device_id=row.device_id)
        scope = await telemetry_service.device_scope(session=session, device=device)
    check_watcher(by, row.stream, jurisdiction_path=scope, squad_code=device.squad_code)
    if row.store_key is not None:
        return row, store.get_file(row.store_key)
    local = directory / row.stream / row.file_name
    if not local.is_file():
        raise NotFound(f"recording {recording_id} is neither in the store nor on this host")
    return row, _local(local, row.sha256)
