"""Request and response shapes of the stream API. Positions: WGS84 unless `crs` says gcj02."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from command_center.auth.model import Principal
from command_center.clues.model import MAX_DESCRIPTION
from command_center.clues.schemas import ClueOut
from command_center.errors import InvalidInput
from command_center.evidence.model import Evidence
from command_center.telemetry.schemas import Location, PositionOut
from command_center.video.cameras import Camera
from command_center.video.model import camera_url
from feeds.video.model import StreamStatus
from feeds.video.recorder import RecordingResult


class DeviceRef(BaseModel):
    id: str
    kind: str
    squad_code: str | None
    label: str


class RecordingState(BaseModel):
    file: str
    since: datetime


class StreamOut(BaseModel):
    name: str
    device: DeviceRef
    state: Literal["connecting", "live", "reconnecting", "ended"]
    connected: bool = Field(description="Whether media is flowing from the device now")
    video_codec: str | None
    audio_codec: str | None
    live_since: datetime | None
    viewers: int
    recording: RecordingState | None
    position: PositionOut | None = Field(description="The device's last reported position")
    whep: str = Field(description="POST an SDP offer here to watch (WHEP)")

    @classmethod
    def of(cls, status: StreamStatus, position: PositionOut | None) -> StreamOut:
        owner = status.owner
        recording = (
            RecordingState(file=status.recording_file, since=status.recording_since)
            if status.recording_file and status.recording_since
            else None
        )
        return cls(
            name=status.name,
            device=DeviceRef(
                id=owner.device_id, kind=owner.kind, squad_code=owner.squad_code, label=owner.label
            ),
            state=status.state.value,
            connected=status.connected,
            video_codec=status.video_codec,
            audio_codec=status.audio_codec,
            live_since=status.live_since,
            viewers=status.viewers,
            recording=recording,
            position=position,
            whep=f"/whep/{status.name}",
        )


class SnapshotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clue_id: int = Field(ge=1, description="The clue the snapshot is evidence of")
    note: str | None = Field(default=None, max_length=2000)


class FrameMark(BaseModel):
    """Where in the picture the operator pointed: fractions of width and height from the
    top left corner."""

    model_config = ConfigDict(extra="forbid")

    x: float = Field(ge=0, le=1, allow_inf_nan=False)
    y: float = Field(ge=0, le=1, allow_inf_nan=False)


class VideoClueIn(BaseModel):
    """A clue an operator marks on a live view. Without lon/lat, the device's last
    reported position is used."""

    model_config = ConfigDict(extra="forbid")

    matter_code: str = Field(min_length=1, max_length=64)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    mark: FrameMark | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> VideoClueIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither (the device's position is used)")
        return self


class EvidenceOut(BaseModel):
    id: int
    clue_id: int
    kind: str
    media_type: str
    sha256: str
    size_bytes: int
    taken_at: datetime | None
    device_id: str | None
    location: Location | None
    note: str | None

    @classmethod
    def of(cls, evidence: Evidence) -> EvidenceOut:
        location = (
            Location(lon=evidence.lon, lat=evidence.lat)
            if evidence.lon is not None and evidence.lat is not None
            else None
        )
        return cls(
            id=evidence.id,
            clue_id=evidence.clue_id,
            kind=evidence.kind.value,
            media_type=evidence.media_type,
            sha256=evidence.sha256,
            size_bytes=evidence.size_bytes,
            taken_at=evidence.taken_at,
            device_id=evidence.device_id,
            location=location,
            note=evidence.note,
        )


class VideoClueOut(BaseModel):
    clue: ClueOut
    evidence: EvidenceOut


class RecordingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clue_id: int | None = Field(default=None, ge=1, description="Record as evidence of a clue")


class RecordingOut(BaseModel):
    id: int | None = None
    stream: str
    file: str
    download: str | None = Field(
        default=None, description="Where to fetch the finished file (from the evidence store)"
    )
    started_at: datetime
    ended_at: datetime | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    frames: int | None = None
    reason: str | None = Field(default=None, description="Why it ended")

    @classmethod
    def finished(
        cls, stream: str, result: RecordingResult, recording_id: int | None = None
    ) -> RecordingOut:
        return cls(
            id=recording_id,
            download=f"/api/v1/recordings/{recording_id}/file" if recording_id else None,
            stream=stream,
            file=result.path.name,
            started_at=result.started_at,
            ended_at=result.ended_at,
            sha256=result.sha256,
            size_bytes=result.size_bytes,
            frames=result.frames,
            reason=result.reason,
        )


class RtmpPushOut(BaseModel):
    """What to enter in a drone's or a body camera's RTMP settings."""

    server: str = Field(description="The RTMP server URL, e.g. rtmp://host:1935/live")
    stream_key: str = Field(description="The stream key: `<device id>?token=<push key>`")
    url: str = Field(description="Server and key in one URL, for apps with a single field")
    key_as_stream_key: str = Field(
        description="The push key alone, for apps whose stream key cannot hold a `?`"
    )
    expires_at: datetime = Field(description="The key ends with the device token it stands for")

    @classmethod
    def of(cls, *, server: str, stream: str, key: str, by: Principal) -> RtmpPushOut:
        stream_key = f"{stream}?token={key}"
        return cls(
            server=server,
            stream_key=stream_key,
            url=f"{server}/{stream_key}",
            key_as_stream_key=key,
            expires_at=datetime.fromtimestamp(by.expires_at or 0, UTC),
        )


# --- fixed cameras ------------------------------------------------------------------------


class CameraIn(BaseModel):
    """A fixed camera pulled over RTSP. The password is stored encrypted and never shown."""

    model_config = ConfigDict(extra="forbid")

    rtsp_url: str = Field(
        max_length=500, description="rtsp://HOST[:PORT]/PATH, without credentials"
    )
    username: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=200, repr=False)
    squad_code: str | None = Field(default=None, max_length=64)
    label: str = Field(default="", max_length=200)

    @field_validator("rtsp_url")
    @classmethod
    def _rtsp_url(cls, value: str) -> str:
        try:
            return camera_url(value)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None


class CameraOut(BaseModel):
    device_id: str
    label: str
    squad_code: str | None
    rtsp_url: str = Field(description="Without credentials")
    username: str | None
    has_password: bool
    whep: str = Field(description="Where to watch it; opening it pulls the camera")
    pull: dict[str, Any] = Field(
        description="state (idle, connecting, live, backing_off), failures, last_error, "
        "retry_in (seconds)"
    )

    @classmethod
    def of(cls, camera: Camera) -> CameraOut:
        pull = camera.pull
        return cls(
            device_id=camera.device.id,
            label=camera.device.label,
            squad_code=camera.device.squad_code,
            rtsp_url=camera.rtsp_url,
            username=camera.username,
            has_password=camera.has_password,
            whep=f"/whep/{camera.device.id}",
            pull={
                "state": pull.state.value,
                "failures": pull.failures,
                "last_error": pull.last_error,
                "retry_in": round(pull.retry_in, 1) if pull.retry_in is not None else None,
            },
        )
