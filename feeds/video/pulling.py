"""Fixed cameras pulled on demand: a camera's RTSP is read only while someone needs it.

A WHEP viewer, a snapshot or a recording asks for a camera (`want`); the puller starts
reading it (a publisher of the stream like an RTMP push, see `VideoServer.pull`) and
`wait_live` returns once frames come. When the camera cannot be reached or drops, the
puller tries again after `retry_delay` (doubling up to a cap) for as long as someone
still needs it; it stops when nobody has watched, recorded or asked for `idle_seconds`.
The state of each camera (`PullStatus`) says which of these it is in and why.

The URL carries the camera's credentials: it is kept out of every repr, log line and
error (errors name "the camera" and FFmpeg's reason only).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum

from command_center.errors import Unavailable
from feeds.video.model import StreamOwner
from feeds.video.rtmp import RtmpSession
from feeds.video.streams import VideoServer

log = logging.getLogger(__name__)

# TCP interleaved RTP: through NAT and firewalls as cameras are reached from a data
# centre, and no lost packets to conceal (no decoding happens here).
RTSP_OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "500000", "fflags": "nobuffer"}
TICK = 0.25


class PullState(StrEnum):
    IDLE = "idle"  # nobody needs the camera: not read
    CONNECTING = "connecting"
    LIVE = "live"
    BACKING_OFF = "backing_off"  # the last attempt failed; the next one waits


def retry_delay(failures: int, *, base: float, cap: float) -> float:
    """Seconds before attempt number `failures + 1`: base, 2×base, 4×base … up to cap."""
    if failures <= 0:
        return 0.0
    return float(min(cap, base * 2 ** min(failures - 1, 30)))


def still_needed(*, users: int, last_use: float, now: float, idle_seconds: float) -> bool:
    """A camera is read while it has viewers or a recorder, or was needed lately."""
    return users > 0 or now - last_use < idle_seconds


@dataclass(frozen=True, slots=True)
class PulledCamera:
    stream: str
    owner: StreamOwner
    url: str = field(repr=False)  # with the credentials in it


@dataclass(frozen=True, slots=True)
class PullStatus:
    state: PullState
    failures: int = 0
    last_error: str | None = None
    retry_in: float | None = None  # seconds, when backing off


@dataclass(eq=False)
class _Pull:
    camera: PulledCamera
    last_use: float
    state: PullState = PullState.CONNECTING
    failures: int = 0
    last_error: str | None = None
    retry_at: float | None = None
    task: asyncio.Task[None] | None = None
    stopping: bool = False


class CameraPuller:
    def __init__(
        self,
        video: VideoServer,
        *,
        idle_seconds: float = 30.0,
        retry_base: float = 1.0,
        retry_max: float = 60.0,
    ) -> None:
        self._video = video
        self._idle = idle_seconds
        self._base = retry_base
        self._cap = retry_max
        self._pulls: dict[str, _Pull] = {}

    def status(self, stream: str) -> PullStatus:
        pull = self._pulls.get(stream)
        if pull is None:
            return PullStatus(PullState.IDLE)
        retry_in = None
        if pull.state is PullState.BACKING_OFF and pull.retry_at is not None:
            retry_in = max(0.0, pull.retry_at - time.monotonic())
        return PullStatus(pull.state, pull.failures, pull.last_error, retry_in)

    async def want(self, camera: PulledCamera, *, wait_seconds: float) -> None:
        """Someone needs the camera now: returns once it is live. Unavailable, naming
        the reason and when the next attempt comes, when it is not within `wait_seconds`."""
        pull = self._pulls.get(camera.stream)
        now = time.monotonic()
        if pull is None or pull.task is None or pull.task.done():
            pull = self._pulls[camera.stream] = _Pull(camera, last_use=now)
            pull.task = asyncio.create_task(self._run(pull), name=f"pull-{camera.stream}")
        pull.last_use = now
        deadline = now + wait_seconds
        while pull.state is not PullState.LIVE:
            if pull.state is PullState.BACKING_OFF or time.monotonic() > deadline:
                raise Unavailable(self._why(camera.stream))
            await asyncio.sleep(TICK / 2)

    def stop(self, stream: str) -> None:
        """Stop reading the camera (it was removed); its stream ends."""
        pull = self._pulls.pop(stream, None)
        if pull is not None:
            pull.stopping = True
            if pull.task is not None:
                pull.task.cancel()
            self._video.end_stream(stream, "camera_removed")

    async def close(self) -> None:
        tasks = [p.task for p in self._pulls.values() if p.task is not None]
        for pull in self._pulls.values():
            pull.stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _why(self, stream: str) -> str:
        status = self.status(stream)
        reason = status.last_error or "it has not sent a picture yet"
        text = f"camera {stream} is not live: {reason}"
        if status.retry_in is not None:
            text += f"; the next attempt is in {status.retry_in:.0f} s"
        return text

    async def _run(self, pull: _Pull) -> None:
        stream = pull.camera.stream
        try:
            while not pull.stopping:
                await self._attempt(pull)
                if pull.stopping or not self._needed(pull):
                    break
                pull.failures += 1
                delay = retry_delay(pull.failures, base=self._base, cap=self._cap)
                pull.state, pull.retry_at = PullState.BACKING_OFF, time.monotonic() + delay
                log.info("camera %s: %s; retrying in %.0f s", stream, pull.last_error, delay)
                while time.monotonic() < pull.retry_at:
                    await asyncio.sleep(TICK)
                    if not self._needed(pull):
                        return
        finally:
            pull.state = PullState.IDLE
            if not pull.stopping:
                self._video.end_stream(stream, "nobody_watching")

    async def _attempt(self, pull: _Pull) -> None:
        """Read the camera until reading ends or nobody needs it any longer."""
        camera, lost = pull.camera, asyncio.Event()

        def on_lost(detail: str) -> None:
            pull.last_error = detail
            lost.set()

        pull.state = PullState.CONNECTING
        try:
            session = self._video.pull(
                camera.stream, camera.owner, url=camera.url, options=RTSP_OPTIONS, on_lost=on_lost
            )
        except Unavailable as exc:
            pull.last_error = str(exc)
            return
        while not lost.is_set() and not session.closing:
            if session.connected_at is not None and pull.state is not PullState.LIVE:
                pull.state, pull.failures, pull.last_error = PullState.LIVE, 0, None
            if not self._needed(pull):
                self._video.end_stream(camera.stream, "nobody_watching")
                await _closed(session)
                return
            await asyncio.sleep(TICK)
        if not lost.is_set():
            pull.last_error = "the camera sent no picture in time"
        await _closed(session)

    def _needed(self, pull: _Pull) -> bool:
        users = self._video.demand(pull.camera.stream)
        if users:
            pull.last_use = time.monotonic()
        return not pull.stopping and still_needed(
            users=users, last_use=pull.last_use, now=time.monotonic(), idle_seconds=self._idle
        )


async def _closed(session: RtmpSession) -> None:
    with contextlib.suppress(Exception):
        await session.close()
