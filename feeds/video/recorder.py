"""Recording a stream's video to a Matroska file exactly as the camera encoded it.

Nothing is decoded or re-encoded (aiortc's MediaRecorder would encode every frame again,
on the event loop): the file holds the publisher's own VP8 or H.264 frames, which is
also what evidence should be. Audio is not recorded. Writing happens in a thread of its
own; while the disk is slow, frames wait in the recorder's relay queue, and if that
overflows the recording skips to the next keyframe (the file stays playable).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
from aiortc.mediastreams import MediaStreamError
from av.stream import Stream
from av.video.codeccontext import VideoCodecContext

from feeds.video.relay import RelayTrack

log = logging.getLogger(__name__)

MEDIA_TYPE = "video/x-matroska"
SUFFIX = ".mkv"
MUXER_CODECS = {"video/vp8": "vp8", "video/h264": "h264"}
MIN_STEP = 90  # 1 ms at 90 kHz: Matroska counts in milliseconds and wants rising times


@dataclass(frozen=True, slots=True)
class RecordingResult:
    path: Path
    sha256: str
    size_bytes: int
    started_at: datetime
    ended_at: datetime
    frames: int
    codec: str | None
    reason: str  # stopped, max_duration, stream_ended, server_stopping, failed: …


Finished = Callable[[RecordingResult], Awaitable[None]]


class _Writer:
    """The container; every method runs in the recorder's own thread."""

    def __init__(self, path: Path, codec: str) -> None:
        self.path = path
        self.codec = codec
        self.container: av.container.OutputContainer | None = None
        self.stream: Stream | None = None
        self.last_pts: int | None = None
        self.frames = 0

    def write(self, data: bytes, pts: int, keyframe: bool, first: bool) -> None:
        if first:
            self._open(data)
        assert self.container is not None and self.stream is not None
        if self.last_pts is not None and pts < self.last_pts + MIN_STEP:
            pts = self.last_pts + MIN_STEP
        self.last_pts = pts
        packet = av.Packet(data)
        packet.pts = packet.dts = pts
        packet.time_base = Fraction(1, 90000)
        packet.is_keyframe = keyframe
        packet.stream = self.stream
        self.container.mux(packet)
        self.frames += 1

    def _open(self, keyframe: bytes) -> None:
        width, height = _picture_size(self.codec, keyframe)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(self.path), "w", format="matroska")
        self.stream = self.container.add_mux_stream(
            self.codec, width=width, height=height, time_base=Fraction(1, 90000)
        )

    def close(self) -> tuple[str, int]:
        if self.container is not None:
            self.container.close()
        if not self.path.exists():
            return hashlib.sha256(b"").hexdigest(), 0
        digest = hashlib.sha256()
        with self.path.open("rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest(), self.path.stat().st_size


def _picture_size(codec: str, keyframe: bytes) -> tuple[int, int]:
    decoder = cast(VideoCodecContext, av.CodecContext.create(codec, "r"))
    pictures = [*decoder.decode(av.Packet(keyframe)), *decoder.decode(None)]
    for picture in pictures:
        if isinstance(picture, av.VideoFrame):
            return picture.width, picture.height
    raise ValueError("the first keyframe decodes to no picture")


class Recorder:
    """Writes the frames of `track` (a relay subscription) to `path` until stopped.

    `on_finished` is awaited once, with the file's SHA-256 and size, whatever ended the
    recording; `stop` returns the same result.
    """

    def __init__(
        self,
        track: RelayTrack,
        path: Path,
        *,
        mime_type: str,
        max_seconds: float,
        on_finished: Finished,
    ) -> None:
        codec = MUXER_CODECS.get(mime_type.lower())
        if codec is None:
            raise ValueError(f"cannot record {mime_type}")
        self.path = path
        self.started_at = datetime.now(UTC)
        self._track = track
        self._writer = _Writer(path, codec)
        self._max_seconds = max_seconds
        self._on_finished = on_finished
        self._reason = "stream_ended"
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recorder")
        self._task: asyncio.Task[RecordingResult] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"recorder-{self.path.name}")

    async def stop(self, reason: str = "stopped") -> RecordingResult:
        """Finish the file (frames already queued are written first) and return its hash."""
        assert self._task is not None
        if not self._task.done():
            self._reason = reason
            self._track.finish()
        return await asyncio.shield(self._task)

    async def _run(self) -> RecordingResult:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_seconds
        try:
            await self._write_until_ended(loop, deadline)
        except Exception as exc:
            log.warning("recording %s failed: %s", self.path.name, exc)
            self._reason = f"failed: {type(exc).__name__}"
        finally:
            self._track.stop()
        digest, size = await loop.run_in_executor(self._executor, self._writer.close)
        self._executor.shutdown(wait=False)
        result = RecordingResult(
            path=self.path,
            sha256=digest,
            size_bytes=size,
            started_at=self.started_at,
            ended_at=datetime.now(UTC),
            frames=self._writer.frames,
            codec=self._writer.codec,
            reason=self._reason,
        )
        try:
            await self._on_finished(result)
        except Exception:
            log.exception("recording %s: recording its result failed", self.path.name)
        return result

    async def _write_until_ended(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        first = True
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                self._reason = "max_duration"
                return
            try:
                packet = await asyncio.wait_for(self._track.recv(), remaining)
            except MediaStreamError:
                return
            except TimeoutError:
                self._reason = "max_duration"
                return
            pts = int(packet.pts or 0) * 90000 * packet.time_base.numerator
            pts //= packet.time_base.denominator
            data = bytes(packet)
            await loop.run_in_executor(
                self._executor, self._writer.write, data, pts, bool(packet.is_keyframe), first
            )
            first = False
