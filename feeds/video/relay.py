"""Fan-out of one stream's encoded frames to many viewers, without decoding or encoding.

A viewer's RTCRtpSender reads `av.Packet`s from a RelayTrack and only packetises them
(aiortc's `Encoder.pack`), so a viewer costs the server RTP and SRTP work, not a video
encoder. (aiortc's MediaRelay fans out decoded frames, which each viewer's sender would
encode again; and its per-viewer queues are unbounded or drop frames at random, which an
encoded stream cannot survive.)

Backpressure: each viewer has a bounded queue. A viewer that falls that far behind loses
its queue and waits for the next keyframe (one is requested from the publisher); the
publisher and the other viewers never wait for it. A new viewer also starts at a keyframe.

Timestamps are rebased onto one continuous timeline per stream, so a viewer that stays
connected while its camera reconnects sees the picture resume rather than a clock jump.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from fractions import Fraction
from typing import TypeAlias

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from av.packet import Packet as AvPacket
from av.stream import Stream as AvStream

from feeds.video.frames import EncodedFrame

EncodedPacket: TypeAlias = "AvPacket[AvStream]"
DEFAULT_QUEUE_FRAMES = 90  # 3 s of 30 fps video
# The gap put between the last frame of one publisher session and the first of the next.
EPOCH_GAP_SECONDS = 1 / 30


class StreamClosed(ConnectionError):
    """The stream ended while something waited for its frames."""


class RelayTrack(MediaStreamTrack):
    """One viewer's track: encoded packets of the stream, starting at a keyframe."""

    def __init__(self, relay: Relay, *, max_queue: int) -> None:
        super().__init__()
        self.kind = relay.kind
        self._relay = relay
        self._queue: asyncio.Queue[EncodedPacket | None] = asyncio.Queue(max_queue)
        self._need_keyframe = True
        self.delivered = 0
        self.dropped = 0

    def offer(self, packet: EncodedPacket, keyframe: bool) -> bool:
        """Queue a frame; False while this track waits for a keyframe."""
        if self.readyState != "live":
            return True
        if self._need_keyframe and not keyframe:
            return False
        self._need_keyframe = False
        try:
            self._queue.put_nowait(packet)
        except asyncio.QueueFull:
            self.dropped += self._flush() + 1
            self._need_keyframe = True
            return False
        return True

    def finish(self) -> None:
        """End the track once the viewer has read what is queued (or at once if full)."""
        if self._queue.full():
            self._flush()
        self._queue.put_nowait(None)

    async def recv(self) -> EncodedPacket:
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self._queue.get()
        if packet is None:
            self.stop()
            raise MediaStreamError
        self.delivered += 1
        return packet

    def stop(self) -> None:
        if self.readyState == "live":
            super().stop()
            self._relay.unsubscribe(self)

    def _flush(self) -> int:
        flushed = 0
        while not self._queue.empty():
            self._queue.get_nowait()
            flushed += 1
        return flushed


class Relay:
    """The encoded frames of one kind (audio or video) of one stream, for its viewers."""

    def __init__(
        self,
        kind: str,
        *,
        request_keyframe: Callable[[], None] = lambda: None,
        max_queue: int = DEFAULT_QUEUE_FRAMES,
    ) -> None:
        self.kind = kind
        self.request_keyframe = request_keyframe
        self._max_queue = max_queue
        self._subscribers: set[RelayTrack] = set()
        self._keyframe_waiters: set[asyncio.Future[EncodedFrame]] = set()
        self.codec: RTCRtpCodecParameters | None = None
        self.frames = 0
        self.last_arrival: float | None = None
        self._offset = 0
        self._last_out: int | None = None
        self._new_epoch = True

    @property
    def viewers(self) -> int:
        return len(self._subscribers)

    def begin_epoch(self, codec: RTCRtpCodecParameters | None) -> None:
        """A new publisher session starts (its timestamps restart at 0).

        Viewers of another codec cannot follow it: their tracks end.
        """
        self._new_epoch = True
        if codec is not None and self.codec is not None and not same_codec(codec, self.codec):
            for track in list(self._subscribers):
                track.finish()
            self._subscribers.clear()
        self.codec = codec

    def publish(self, frame: EncodedFrame) -> None:
        """Hand a frame to every viewer (and to whoever awaits a keyframe). Never blocks."""
        clock = frame.codec.clockRate
        if self._new_epoch:
            gap = round(clock * EPOCH_GAP_SECONDS)
            start = 0 if self._last_out is None else self._last_out + gap
            self._offset = start - frame.timestamp
            self._new_epoch = False
        timestamp = frame.timestamp + self._offset
        self._last_out = timestamp
        self.frames += 1
        self.last_arrival = frame.arrived
        packet = av.Packet(frame.data)
        packet.pts = packet.dts = timestamp
        packet.time_base = Fraction(1, clock)
        packet.is_keyframe = frame.keyframe
        waiting = False
        for track in list(self._subscribers):
            waiting |= not track.offer(packet, frame.keyframe)
        if waiting:  # somebody still waits for a keyframe: ask again (the publisher dedupes)
            self.request_keyframe()
        if frame.keyframe and self._keyframe_waiters:
            for waiter in self._keyframe_waiters:
                if not waiter.done():
                    waiter.set_result(frame)
            self._keyframe_waiters.clear()

    def subscribe(self, *, max_queue: int | None = None) -> RelayTrack:
        """A new viewer's track; it starts with the next keyframe, which is requested now."""
        track = RelayTrack(self, max_queue=max_queue or self._max_queue)
        self._subscribers.add(track)
        self.request_keyframe()
        return track

    def unsubscribe(self, track: RelayTrack) -> None:
        self._subscribers.discard(track)

    async def next_keyframe(self, wait_seconds: float) -> EncodedFrame:
        """The next keyframe to arrive (one is requested); TimeoutError after
        `wait_seconds`, StreamClosed if the relay closes first."""
        waiter: asyncio.Future[EncodedFrame] = asyncio.get_running_loop().create_future()
        self._keyframe_waiters.add(waiter)
        self.request_keyframe()
        try:
            return await asyncio.wait_for(waiter, wait_seconds)
        finally:
            self._keyframe_waiters.discard(waiter)

    def close(self) -> None:
        """End every viewer's track and every wait for a keyframe."""
        for track in list(self._subscribers):
            track.finish()
        self._subscribers.clear()
        for waiter in self._keyframe_waiters:
            if not waiter.done():
                waiter.set_exception(StreamClosed("the stream ended"))
        self._keyframe_waiters.clear()


def same_codec(a: RTCRtpCodecParameters, b: RTCRtpCodecParameters) -> bool:
    """Whether a viewer negotiated for `a` can be fed frames encoded as `b`."""
    if a.mimeType.lower() != b.mimeType.lower() or a.clockRate != b.clockRate:
        return False
    if a.mimeType.lower() == "video/h264":
        keys = ("packetization-mode", "profile-level-id")
        return all(
            str(a.parameters.get(k, "")).lower() == str(b.parameters.get(k, "")).lower()
            for k in keys
        )
    return True
