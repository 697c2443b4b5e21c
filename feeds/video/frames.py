"""Encoded frames as they come off the wire, and how to tell a keyframe. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiortc.rtcrtpparameters import RTCRtpCodecParameters

H264_IDR = 5
H264_SPS = 7


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One complete encoded frame: VP8 bytes, H.264 Annex B access unit, or an audio packet.

    `timestamp` is in the codec's clock (90 kHz for video) and starts at 0 for each
    publisher session; `arrived` is time.monotonic() when the last packet came in.
    """

    kind: str
    codec: RTCRtpCodecParameters
    data: bytes
    timestamp: int
    keyframe: bool
    arrived: float
    wall_clock: datetime


def is_keyframe(mime_type: str, data: bytes) -> bool:
    """Whether a decoder can start at this frame. Audio frames always can."""
    mime = mime_type.lower()
    if mime == "video/vp8":
        # RFC 6386 section 9.1: bit 0 of the frame tag is 0 for a key frame.
        return bool(data) and not data[0] & 0x01
    if mime == "video/h264":
        return any(nal in (H264_IDR, H264_SPS) for nal in h264_nal_types(data))
    return not mime.startswith("video/")


def h264_nal_types(data: bytes) -> list[int]:
    """The NAL unit types of an Annex B access unit (after each 00 00 01 start code)."""
    types = []
    start = data.find(b"\x00\x00\x01")
    while start != -1 and start + 3 < len(data):
        types.append(data[start + 3] & 0x1F)
        start = data.find(b"\x00\x00\x01", start + 3)
    return types
