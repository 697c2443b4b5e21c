"""Encoded frames out of an aiortc receiver, before anything decodes them.

aiortc's RTCRtpReceiver reassembles frames in a jitter buffer and hands each one to a
decoder thread through a queue. A relay that must not transcode wants those encoded
frames, not decoded pictures, and has no use for the decoding. `tap_receiver` puts a
queue of its own in place of the receiver's (aiortc has no public hook for this), so
every complete frame goes to a callback on the event loop and nothing is decoded; the
receiver's decoder thread stays idle until the receiver stops it.

It also puts in a jitter buffer that releases a video frame as soon as its last packet
(RTP marker bit) is in, instead of waiting for the first packet of the next frame as
aiortc's does: that saves one frame interval (33 ms at 30 fps) of delay per hop.

Both replace name-mangled attributes of aiortc 1.x; `tap_receiver` raises TapUnavailable
if they are missing, so an aiortc upgrade that changes them fails loudly, at once.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiortc import RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from feeds.video.frames import EncodedFrame, is_keyframe

_QUEUE = "_RTCRtpReceiver__decoder_queue"
_JITTER = "_RTCRtpReceiver__jitter_buffer"
_STARTED = "_RTCRtpReceiver__started"
VIDEO_JITTER_CAPACITY = 512  # packets, as aiortc's own

Deliver = Callable[[EncodedFrame], None]


class TapUnavailable(RuntimeError):
    """This aiortc version does not have the receiver internals the tap replaces."""


class _TapQueue(queue.Queue[Any]):
    """Stands in for the receiver's decoder queue: frames go to `deliver`, and only the
    receiver's stop signal (None) reaches its decoder thread."""

    def __init__(self, kind: str, deliver: Deliver) -> None:
        super().__init__()
        self._kind = kind
        self._deliver = deliver

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(item, block, timeout)
            return
        codec, frame = item
        self._deliver(encoded(self._kind, codec, frame))


def encoded(kind: str, codec: RTCRtpCodecParameters, frame: JitterFrame) -> EncodedFrame:
    return EncodedFrame(
        kind=kind,
        codec=codec,
        data=frame.data,
        timestamp=frame.timestamp,
        keyframe=is_keyframe(codec.mimeType, frame.data),
        arrived=time.monotonic(),
        wall_clock=datetime.now(UTC),
    )


class MarkerJitterBuffer(JitterBuffer):
    """A video jitter buffer that releases a frame when it is complete: every packet from
    the oldest one through the packet carrying the RTP marker bit, without a gap. A frame
    whose marker packet never comes is released when the next frame begins, as before."""

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        if self._origin is None:
            return None
        packets: list[Any] = []
        timestamp: int | None = None
        for count in range(self.capacity):
            packet = self._packets[(self._origin + count) % self.capacity]
            if packet is None:
                return None
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:
                return self._release(packets, timestamp, count)
            packets.append(packet)
            if packet.marker:
                return self._release(packets, timestamp, count + 1)
        return None

    def _release(self, packets: list[Any], timestamp: int, count: int) -> JitterFrame:
        frame = JitterFrame(data=b"".join(p._data for p in packets), timestamp=timestamp)
        self.remove(count)
        return frame


def tap_receiver(receiver: RTCRtpReceiver, kind: str, deliver: Deliver) -> None:
    """Send every encoded frame `receiver` assembles to `deliver` (on the event loop).

    Call it before the connection starts receiving (in the `track` event). Raises
    TapUnavailable when aiortc's internals differ from what this module replaces.
    """
    if not hasattr(receiver, _QUEUE) or not hasattr(receiver, _JITTER):
        raise TapUnavailable("this aiortc version has no receiver decoder queue to tap")
    if getattr(receiver, _STARTED, False):
        raise TapUnavailable("the receiver is already running; tap it in the track event")
    setattr(receiver, _QUEUE, _TapQueue(kind, deliver))
    if kind == "video":
        setattr(receiver, _JITTER, MarkerJitterBuffer(VIDEO_JITTER_CAPACITY, is_video=True))


async def request_keyframe(receiver: RTCRtpReceiver) -> None:
    """Ask the publisher for a keyframe (RTCP picture loss indication, RFC 4585)."""
    for source in receiver.getSynchronizationSources():
        await receiver._send_rtcp_pli(source.source)
