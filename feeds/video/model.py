"""What a stream is, outside the media: its life-cycle table, who owns it, what observers
are told, and the limits a server keeps. No I/O.

A stream's life is a table of allowed changes (`TRANSITIONS`); what the outside world
is told follows from it:

- `started` when a publisher session connects (`reconnect` if the stream was live before),
- `dropped` when a live stream loses its publisher (connection failed or closed, or no
  media for `media_timeout`); viewers stay and wait up to `reconnect_grace`,
- `ended` when the publisher leaves (WHIP DELETE), the grace runs out, or the server stops.

A stream whose first publisher session never connects ends without a word.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from command_center.errors import IllegalTransition


class StreamState(StrEnum):
    CONNECTING = "connecting"  # the first publisher session is not connected yet
    LIVE = "live"
    RECONNECTING = "reconnecting"  # the publisher dropped; viewers wait for it
    ENDED = "ended"


class Change(StrEnum):
    PUBLISH = "publish"  # a publisher session was answered
    CONNECT = "connect"  # the current publisher session connected
    FAIL = "fail"  # the current publisher session failed before it connected
    DROP = "drop"  # the connected publisher was lost
    END = "end"  # the publisher left, the grace ran out, or the server stops


S, C = StreamState, Change

TRANSITIONS: dict[tuple[StreamState, Change], StreamState] = {
    (S.CONNECTING, C.PUBLISH): S.CONNECTING,
    (S.CONNECTING, C.CONNECT): S.LIVE,
    (S.CONNECTING, C.FAIL): S.ENDED,
    (S.CONNECTING, C.END): S.ENDED,
    (S.LIVE, C.PUBLISH): S.LIVE,
    (S.LIVE, C.CONNECT): S.LIVE,
    (S.LIVE, C.FAIL): S.RECONNECTING,  # a replacement failed; the one it replaced is gone
    (S.LIVE, C.DROP): S.RECONNECTING,
    (S.LIVE, C.END): S.ENDED,
    (S.RECONNECTING, C.PUBLISH): S.RECONNECTING,
    (S.RECONNECTING, C.CONNECT): S.LIVE,
    (S.RECONNECTING, C.FAIL): S.RECONNECTING,
    (S.RECONNECTING, C.END): S.ENDED,
}

ANNOUNCED = frozenset({S.LIVE, S.RECONNECTING})  # states the outside world has been told of


def next_state(state: StreamState, change: Change) -> StreamState:
    try:
        return TRANSITIONS[(state, change)]
    except KeyError:
        raise IllegalTransition(f"a {state.value} stream cannot {change.value}") from None


@dataclass(frozen=True, slots=True)
class StreamOwner:
    """Who a stream belongs to and who may see it; filled in by the service."""

    device_id: str
    kind: str
    label: str = ""
    squad_code: str | None = None
    jurisdiction_path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StreamNotice:
    type: str  # started, dropped, ended
    stream: str
    owner: StreamOwner
    at: datetime
    session_id: str | None = None
    reason: str | None = None
    reconnect: bool = False
    codec: str | None = None


class StreamObserver(Protocol):
    async def notify(self, notice: StreamNotice) -> None: ...


@dataclass(frozen=True, slots=True)
class Limits:
    max_streams: int = 32
    max_viewers_per_stream: int = 8
    connect_timeout: float = 15.0
    media_timeout: float = 10.0
    reconnect_grace: float = 30.0
    snapshot_timeout: float = 5.0
    recording_max_seconds: float = 3600.0


@dataclass(frozen=True, slots=True)
class StreamStatus:
    name: str
    owner: StreamOwner
    state: StreamState
    publisher_session: str | None
    connected: bool
    video_codec: str | None
    audio_codec: str | None
    live_since: datetime | None
    viewers: int
    frames: int
    recording_since: datetime | None
    recording_file: str | None
