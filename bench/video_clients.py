"""The load of bench.video: cameras that publish a pre-encoded clip over WHIP, viewers
that watch over WHEP, and the time each frame takes from one to the other.

Neither side encodes or decodes during the run, so the client's CPU goes to RTP, SRTP
and ICE, like the server's: the clip (640×480 VP8 with a frame number drawn in every
frame) is encoded once at start, the publisher sends its packets as they are (aiortc
packetises `av.Packet`s without encoding), and viewers take encoded frames off their
receivers with feeds.video.tap. Passthrough relaying keeps the bytes of every frame, so
a viewer identifies each frame by its bytes and knows when the camera sent it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from fractions import Fraction

import av
import httpx
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from feeds.video.frames import EncodedFrame
from feeds.video.relay import EncodedPacket
from feeds.video.tap import tap_receiver

VIDEO_CLOCK = 90000


@dataclass(frozen=True)
class Clip:
    """Encoded frames of a looping clip; `index` finds a frame by its bytes."""

    frames: list[bytes]
    keyframes: list[bool]
    fps: int
    width: int
    height: int
    index: dict[bytes, int]

    @property
    def bitrate_bps(self) -> float:
        return sum(len(f) for f in self.frames) * 8 * self.fps / len(self.frames)


def make_clip(*, seconds: float, fps: int, width: int, height: int, bitrate: int, gop: int) -> Clip:
    """A VP8 clip: a moving gradient, changing noise blocks and the frame number as blocks."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, fps)
    encoder.framerate = Fraction(fps, 1)
    encoder.bit_rate = bitrate
    encoder.gop_size = gop
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    rng = np.random.default_rng(7)
    count = int(seconds * fps)
    ys, xs = np.mgrid[0:height, 0:width]
    frames: list[bytes] = []
    keyframes: list[bool] = []
    for n in range(count):
        picture = np.zeros((height, width, 3), np.uint8)
        picture[:, :, 0] = (xs + 4 * n) % 256
        picture[:, :, 1] = (ys + 2 * n) % 256
        picture[:, :, 2] = 128
        for _ in range(6):
            y, x = rng.integers(0, height - 64), rng.integers(0, width - 64)
            picture[y : y + 64, x : x + 64] = rng.integers(0, 256, (64, 64, 3), np.uint8)
        for bit in range(12):  # the frame number, as black and white blocks
            picture[:24, bit * 24 : bit * 24 + 24] = 255 if n >> bit & 1 else 0
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        for packet in encoder.encode(frame):
            frames.append(bytes(packet))
            keyframes.append(bool(packet.is_keyframe))
    for packet in encoder.encode(None):
        frames.append(bytes(packet))
        keyframes.append(bool(packet.is_keyframe))
    index = {data: i for i, data in enumerate(frames)}
    if len(index) != len(frames):
        raise RuntimeError("two frames of the clip encode to the same bytes")
    return Clip(frames, keyframes, fps, width, height, index)


class ClipTrack(MediaStreamTrack):
    """Sends the clip's packets at its frame rate, in a loop; remembers when it sent each."""

    kind = "video"

    def __init__(self, clip: Clip) -> None:
        super().__init__()
        self._clip = clip
        self._n = 0
        self._start: float | None = None
        self.sent_at: list[float] = [0.0] * len(clip.frames)
        self.sent = 0

    async def recv(self) -> EncodedPacket:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._n / self._clip.fps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        i = self._n % len(self._clip.frames)
        packet = av.Packet(self._clip.frames[i])
        packet.pts = self._n * (VIDEO_CLOCK // self._clip.fps)
        packet.time_base = Fraction(1, VIDEO_CLOCK)
        self.sent_at[i] = time.monotonic()
        self._n += 1
        self.sent += 1
        return packet


@dataclass
class Watch:
    """What one viewer received: frames, and each frame's delay since the camera sent it."""

    received: int = 0
    unknown: int = 0
    delays: list[float] = field(default_factory=list)
    recording: bool = False

    def frame(self, clip: Clip, track: ClipTrack, frame: EncodedFrame) -> None:
        i = clip.index.get(frame.data)
        if i is None:
            self.unknown += 1
            return
        if not self.recording:
            return
        self.received += 1
        delay = frame.arrived - track.sent_at[i]
        if 0 <= delay < len(clip.frames) / clip.fps / 2:  # not a frame from the last loop
            self.delays.append(delay)


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def tap_viewer(pc: RTCPeerConnection, clip: Clip, track: ClipTrack, watch: Watch) -> None:
    """Count the viewer's encoded frames as they arrive; nothing is decoded."""
    for transceiver in pc.getTransceivers():
        if transceiver.kind == "video":
            tap_receiver(
                transceiver.receiver, "video", lambda frame: watch.frame(clip, track, frame)
            )


async def exchange(http: httpx.AsyncClient, path: str, token: str, pc: RTCPeerConnection) -> str:
    """POST the pc's offer (WHIP or WHEP), apply the answer; the session's Location."""
    await pc.setLocalDescription(await pc.createOffer())
    response = await http.post(
        path,
        content=pc.localDescription.sdp.encode(),
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
    )
    if response.status_code != 201:
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))
    return response.headers["location"]


@dataclass
class Camera:
    """One published stream and its viewers."""

    name: str
    track: ClipTrack
    publisher: RTCPeerConnection
    location: str
    viewers: list[tuple[RTCPeerConnection, Watch]] = field(default_factory=list)

    async def close(self) -> None:
        for pc, _ in self.viewers:
            await pc.close()
        await self.publisher.close()


async def start_camera(
    http: httpx.AsyncClient,
    *,
    name: str,
    device_token: str,
    viewer_token: str,
    viewers: int,
    clip: Clip,
) -> Camera:
    track = ClipTrack(clip)
    publisher = new_pc()
    publisher.addTransceiver(track, direction="sendonly")
    location = await exchange(http, f"/whip/{name}", device_token, publisher)
    camera = Camera(name, track, publisher, location)
    for _ in range(viewers):
        pc, watch = new_pc(), Watch()
        pc.addTransceiver("video", direction="recvonly")
        tap_viewer(pc, clip, track, watch)
        await exchange(http, f"/whep/{name}", viewer_token, pc)
        camera.viewers.append((pc, watch))
    return camera


async def direct_pair(clip: Clip) -> tuple[Camera, Watch]:
    """A camera and one viewer connected to each other, no server: the baseline delay."""
    track = ClipTrack(clip)
    sender, receiver, watch = new_pc(), new_pc(), Watch()
    sender.addTransceiver(track, direction="sendonly")
    receiver.addTransceiver("video", direction="recvonly")
    tap_viewer(receiver, clip, track, watch)
    await receiver.setLocalDescription(await receiver.createOffer())
    await sender.setRemoteDescription(receiver.localDescription)
    await sender.setLocalDescription(await sender.createAnswer())
    await receiver.setRemoteDescription(sender.localDescription)
    camera = Camera("direct", track, sender, "", viewers=[(receiver, watch)])
    return camera, watch
