"""A keyframe → a JPEG. CPU-bound and blocking: call it in a worker thread."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import av
from av.video.codeccontext import VideoCodecContext
from PIL import Image

from feeds.video.frames import EncodedFrame

JPEG_QUALITY = 90
DECODERS = {"video/vp8": "vp8", "video/h264": "h264"}


class SnapshotFailed(Exception):
    """The frame could not be decoded; the message says why."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    jpeg: bytes
    width: int
    height: int
    taken_at: datetime  # UTC, when the frame reached the server
    codec: str


def decode_keyframe(frame: EncodedFrame) -> av.VideoFrame:
    """Decode one keyframe on its own, with a fresh decoder. Raises SnapshotFailed."""
    name = DECODERS.get(frame.codec.mimeType.lower())
    if name is None:
        raise SnapshotFailed(f"cannot decode {frame.codec.mimeType}")
    if not frame.keyframe:
        raise SnapshotFailed("a snapshot needs a keyframe")
    decoder = cast(VideoCodecContext, av.CodecContext.create(name, "r"))
    try:
        pictures = [*decoder.decode(av.Packet(frame.data)), *decoder.decode(None)]
    except av.FFmpegError as exc:
        raise SnapshotFailed(f"the keyframe does not decode: {exc}") from None
    videos = [p for p in pictures if isinstance(p, av.VideoFrame)]
    if not videos:
        raise SnapshotFailed("the keyframe decoded to no picture")
    return videos[-1]


def jpeg_snapshot(frame: EncodedFrame, *, quality: int = JPEG_QUALITY) -> Snapshot:
    picture = decode_keyframe(frame)
    buffer = io.BytesIO()
    Image.fromarray(picture.to_ndarray(format="rgb24")).save(buffer, format="JPEG", quality=quality)
    return Snapshot(
        jpeg=buffer.getvalue(),
        width=picture.width,
        height=picture.height,
        taken_at=frame.wall_clock,
        codec=frame.codec.mimeType,
    )
