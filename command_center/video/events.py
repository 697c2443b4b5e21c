"""The events live video writes to the log, and the live updates it pushes. No I/O.

`stream.started`, `stream.dropped`, `stream.ended` carry the stream, device, session,
reason and time; their scope is the device's (its squad and the jurisdictions it is
overseen from). `stream.recording_saved` carries the file's SHA-256; a recording made for
a clue is an event of that clue.
"""

from __future__ import annotations

from typing import Any

from command_center.realtime.events import PendingEvent, iso_utc
from command_center.telemetry.bus import Update
from feeds.video.model import StreamNotice, StreamOwner, StreamStatus
from feeds.video.recorder import RecordingResult

STATE_AFTER = {"started": "live", "dropped": "reconnecting", "ended": "ended"}


def whep_path(stream: str) -> str:
    return f"/whep/{stream}"


def device_data(owner: StreamOwner) -> dict[str, Any]:
    return {
        "id": owner.device_id,
        "kind": owner.kind,
        "squad_code": owner.squad_code,
        "label": owner.label,
    }


def stream_event(notice: StreamNotice) -> PendingEvent:
    owner = notice.owner
    return PendingEvent(
        type=f"stream.{notice.type}",
        jurisdiction_path=owner.jurisdiction_path,
        squad_codes=(owner.squad_code,) if owner.squad_code else (),
        data={
            "stream": notice.stream,
            "device_id": owner.device_id,
            "device_kind": owner.kind,
            "squad_code": owner.squad_code,
            "session_id": notice.session_id,
            "at": iso_utc(notice.at),
            "reason": notice.reason,
            "reconnect": notice.reconnect,
            "codec": notice.codec,
            "whep": whep_path(notice.stream),
        },
    )


def stream_update(notice: StreamNotice) -> Update:
    """The `stream` message of /ws/telemetry: a marker's video starts or stops."""
    owner = notice.owner
    return Update(
        key=f"stream:{notice.stream}",
        body={
            "type": "stream",
            "device": device_data(owner),
            "stream": {
                "name": notice.stream,
                "state": STATE_AFTER.get(notice.type, notice.type),
                "whep": whep_path(notice.stream),
                "reason": notice.reason,
            },
            "at": iso_utc(notice.at),
        },
        jurisdiction_path=owner.jurisdiction_path,
        squad_codes=(owner.squad_code,) if owner.squad_code else (),
    )


def stream_link(status: StreamStatus | None) -> dict[str, Any] | None:
    """How a device's live stream appears next to its position."""
    if status is None:
        return None
    return {"name": status.name, "state": status.state.value, "whep": whep_path(status.name)}


def recording_saved(
    result: RecordingResult,
    *,
    recording_id: int,
    stream: str,
    owner: StreamOwner,
    clue: dict[str, Any] | None,
    started_by: dict[str, Any],
) -> PendingEvent:
    """`clue` (id, service_request_id, jurisdiction_path, squad_code) when recorded for one."""
    data = {
        "recording_id": recording_id,
        "stream": stream,
        "device_id": owner.device_id,
        "file": result.path.name,
        "sha256": result.sha256,
        "size_bytes": result.size_bytes,
        "frames": result.frames,
        "codec": result.codec,
        "started_at": iso_utc(result.started_at),
        "ended_at": iso_utc(result.ended_at),
        "reason": result.reason,
        "by": started_by,
    }
    if clue is None:
        return PendingEvent(
            type="stream.recording_saved",
            data=data,
            jurisdiction_path=owner.jurisdiction_path,
            squad_codes=(owner.squad_code,) if owner.squad_code else (),
        )
    return PendingEvent(
        type="stream.recording_saved",
        clue_id=clue["clue_id"],
        data={**data, "clue_id": clue["clue_id"], "service_request_id": clue["service_request_id"]},
        jurisdiction_path=tuple(clue["jurisdiction_path"]),
        squad_codes=(clue["squad_code"],) if clue["squad_code"] else (),
    )
