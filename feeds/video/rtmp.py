"""A stream pushed over RTMP, read back from nginx with PyAV as a publisher of a live stream.

A drone or body camera pushes RTMP to nginx (libnginx-mod-rtmp); nginx asks this service
whether to accept (`on_publish`), and the service then plays the stream from nginx on
loopback. Nothing is decoded: FLV carries H.264 as length-prefixed NAL units with the
SPS/PPS in its header, and FFmpeg's `h264_mp4toannexb` bitstream filter turns each
packet into the Annex B access unit (SPS/PPS before every keyframe) that the relay, the
recorder, snapshots and aiortc's H.264 packetiser take from a WebRTC camera. Audio (AAC,
which WebRTC cannot carry) is not read at all: the demuxer skips its packets.

A fixed camera's RTSP is read the same way (`feeds.video.pulling`): FFmpeg's RTSP
demuxer hands over H.264 from RTP, which the same filter leaves in Annex B.

Reading blocks, so each session reads in a thread of its own (not the default executor,
which has a handful of threads for the whole process) and hands frames to the event loop.
A stream that sends nothing for `read_timeout` seconds fails; closing the session takes
at most that long when the stream is silent, a packet's time when it is not.

RTMP has no way to ask the camera for a keyframe: a new viewer waits for the next one,
so a camera's keyframe interval (GOP) is a new viewer's wait; 1–2 s is what to set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import av
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from av.bitstream import BitStreamFilterContext

from feeds.video.frames import EncodedFrame, is_keyframe
from feeds.video.sessions import new_session_id

log = logging.getLogger(__name__)

CLOCK_RATE = 90_000
# The H.264 that WebRTC viewers negotiate for an RTMP stream: aiortc's own capability
# (Constrained Baseline 3.1, level asymmetry allowed). Decoders follow the stream's own
# SPS, so a Main or High profile camera plays too; B-frames do not (see docs/video-rtmp.md).
H264 = RTCRtpCodecParameters(
    mimeType="video/H264",
    clockRate=CLOCK_RATE,
    payloadType=102,
    parameters={
        "level-asymmetry-allowed": "1",
        "packetization-mode": "1",
        "profile-level-id": "42e01f",
    },
)
# Open as soon as the H.264 header and a keyframe are in, rather than after FFmpeg's
# default five seconds of analysis; ask nginx for a live stream with a small buffer.
OPEN_OPTIONS = {"rtmp_live": "live", "rtmp_buffer": "100", "analyzeduration": "500000"}


class Ending(StrEnum):
    """How reading ended: the publisher stopped (nginx said so), or reading failed."""

    PUBLISHER_LEFT = "publisher_left"
    FAILED = "failed"


@dataclass(eq=False)
class RtmpSession:
    """One push of one device, read from nginx; a publisher of a live stream.

    `client_id` is nginx's number of the pushing connection: its `on_publish_done` names
    it, so a late goodbye of an earlier push cannot end a newer one. The callbacks run on
    the event loop: `on_open` once the stream's video is known to be H.264, `on_frame`
    for each video frame, `on_end` once, when reading stops for any reason but `close`.
    """

    url: str
    client_id: str
    on_open: Callable[[RtmpSession], None]
    on_frame: Callable[[RtmpSession, EncodedFrame], None]
    on_end: Callable[[RtmpSession, Ending, str], None]
    open_timeout: float = 10.0
    read_timeout: float = 5.0
    options: dict[str, str] = field(default_factory=lambda: dict(OPEN_OPTIONS))
    source: str = "nginx"  # what errors name (never the URL, which may hold credentials)
    id: str = field(default_factory=new_session_id)
    codecs: dict[str, RTCRtpCodecParameters] = field(default_factory=lambda: {"video": H264})
    connected_at: float | None = None
    last_frame: float | None = None
    closing: bool = False
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _done: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._read, name=f"rtmp-{self.id[:6]}", daemon=True)
        self._thread.start()

    def request_keyframe(self) -> None:
        """Nothing to do: RTMP cannot ask a camera for a keyframe; the next one serves."""

    def keyframe_arrived(self) -> None:
        """Nothing was asked for (see request_keyframe)."""

    async def close(self) -> None:
        """Stop reading; returns when the reading thread has let go of the connection."""
        self.closing = True
        if self._thread is not None:
            await self._done.wait()

    # --- the reading thread ------------------------------------------------------------

    def _read(self) -> None:
        ending, detail = Ending.FAILED, "unknown"
        try:
            ending, detail = self._read_stream()
        except Exception as exc:  # a thread's failure must still reach the loop
            log.exception("reading the RTMP stream failed")
            detail = type(exc).__name__
        finally:
            self._call(self._finished, ending, detail)

    def _read_stream(self) -> tuple[Ending, str]:
        try:
            container = av.open(
                self.url, timeout=(self.open_timeout, self.read_timeout), options=self.options
            )
        except av.FFmpegError as exc:
            return Ending.FAILED, f"cannot read the stream from {self.source}: {_brief(exc)}"
        try:
            return self._demux(container)
        finally:
            container.close()

    def _demux(self, container: Any) -> tuple[Ending, str]:
        if not container.streams.video:
            return Ending.FAILED, "the stream has no video"
        video = container.streams.video[0]
        name = video.codec_context.name
        if name != "h264":
            return Ending.FAILED, f"the stream's video is {name}; only H.264 is relayed"
        to_annex_b = BitStreamFilterContext("h264_mp4toannexb", video)
        self._call(self._opened)
        try:
            for packet in container.demux(video):
                if self.closing:
                    return Ending.PUBLISHER_LEFT, "closed"
                if packet.pts is None or packet.time_base is None:
                    continue  # the demuxer's flush packet
                # read before filtering: the filter takes the packet's contents over
                timestamp = int(packet.pts * packet.time_base * CLOCK_RATE)
                keyframe = bool(packet.is_keyframe)
                for unit in to_annex_b.filter(packet):
                    self._call(self._frame, _encoded(bytes(unit), timestamp, keyframe))
        except EOFError:
            pass
        except av.FFmpegError as exc:
            return Ending.FAILED, f"reading the stream failed: {_brief(exc)}"
        return Ending.PUBLISHER_LEFT, "the publisher stopped"

    def _call(self, work: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
            loop.call_soon_threadsafe(work, *args)

    # --- on the event loop -------------------------------------------------------------

    def _opened(self) -> None:
        if not self.closing:
            self.on_open(self)

    def _frame(self, frame: EncodedFrame) -> None:
        if not self.closing:
            self.on_frame(self, frame)

    def _finished(self, ending: Ending, detail: str) -> None:
        self._done.set()
        if not self.closing:
            self.closing = True
            self.on_end(self, ending, detail)


def _encoded(data: bytes, timestamp: int, keyframe: bool) -> EncodedFrame:
    return EncodedFrame(
        kind="video",
        codec=H264,
        data=data,
        timestamp=timestamp,
        keyframe=keyframe or is_keyframe(H264.mimeType, data),
        arrived=time.monotonic(),
        wall_clock=datetime.now(UTC),
    )


def _brief(exc: BaseException) -> str:
    """An FFmpeg error without the URL it names (nothing secret is in it, but it is long)."""
    strerror = getattr(exc, "strerror", None)
    return str(strerror or type(exc).__name__)[:200]
