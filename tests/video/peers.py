"""aiortc clients for the tests: a WHIP publisher of synthetic frames, a WHEP viewer."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import httpx
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.codecs import get_capabilities
from aiortc.mediastreams import MediaStreamError

RED = (200, 30, 40)
BLUE = (20, 60, 210)
LIANDU_INSIDE = (119.90, 28.45)  # well inside 莲都区, away from the other tests' points


def unique_point() -> tuple[float, float]:
    """A point in 莲都区 of its own (duplicate linking looks 50 m around)."""
    return (119.86 + secrets.randbelow(600) / 10000, 28.43 + secrets.randbelow(400) / 10000)


class ColourTrack(VideoStreamTrack):
    """640×480 frames of one colour with a white bar that moves, at 30 fps."""

    def __init__(self, colour: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> None:
        super().__init__()
        width, height = size
        self._picture = np.zeros((height, width, 3), np.uint8)
        self._picture[:, :] = colour
        self._count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        picture = self._picture.copy()
        x = (self._count * 8) % (picture.shape[1] - 16)
        picture[:16, x : x + 16] = 255
        self._count += 1
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


def mean_colour(frame: av.VideoFrame) -> tuple[float, float, float]:
    picture = frame.to_ndarray(format="rgb24")[32:, :, :]  # below the moving bar
    r, g, b = picture.mean(axis=(0, 1))
    return float(r), float(g), float(b)


def close_to(actual: tuple[float, ...], expected: tuple[int, ...], tolerance: float = 25) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


@dataclass
class Publisher:
    pc: RTCPeerConnection
    location: str
    token: str
    answer: str
    links: list[str]


@dataclass
class Viewer:
    pc: RTCPeerConnection
    location: str
    token: str
    frames: list[tuple[float, av.VideoFrame]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_frames(self, count: int, timeout: float = 10.0) -> list[av.VideoFrame]:
        """At least `count` frames received from now on."""
        start = len(self.frames)
        deadline = time.monotonic() + timeout
        while len(self.frames) - start < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.frames) - start} of {count} frames in {timeout}s")
            await asyncio.sleep(0.05)
        return [f for _, f in self.frames[start:]]

    def read(self, track: MediaStreamTrack) -> None:
        async def loop() -> None:
            try:
                while True:
                    frame = await track.recv()
                    if isinstance(frame, av.VideoFrame):
                        self.frames.append((time.monotonic(), frame))
            except MediaStreamError:
                self.ended.set()

        self.reader = asyncio.create_task(loop())


class Peers:
    """Makes WHIP/WHEP sessions against a live server; closes them all on exit."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=15)
        self._pcs: list[RTCPeerConnection] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Peers:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for pc in self._pcs:
            await pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.http.aclose()

    def pc(self) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._pcs.append(pc)
        return pc

    async def post_sdp(self, path: str, token: str, sdp: str) -> httpx.Response:
        return await self.http.post(
            path,
            content=sdp.encode(),
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
        )

    async def publish(
        self,
        stream: str,
        token: str,
        *,
        colour: tuple[int, int, int] = RED,
        codec: str | None = None,
        track: MediaStreamTrack | None = None,
    ) -> Publisher:
        pc = self.pc()
        transceiver = pc.addTransceiver(track or ColourTrack(colour), direction="sendonly")
        if codec is not None:
            transceiver.setCodecPreferences(
                [c for c in get_capabilities("video").codecs if c.mimeType == codec]
            )
        await pc.setLocalDescription(await pc.createOffer())
        response = await self.post_sdp(f"/whip/{stream}", token, pc.localDescription.sdp)
        assert response.status_code == 201, response.text
        assert response.headers["content-type"].startswith("application/sdp")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))
        return Publisher(
            pc,
            response.headers["location"],
            token,
            response.text,
            response.headers.get_list("link"),
        )

    async def watch(self, stream: str, token: str) -> Viewer:
        pc = self.pc()
        pc.addTransceiver("video", direction="recvonly")
        viewer = Viewer(pc, "", token)
        pc.on("track", lambda track: self._read(viewer, track))
        await pc.setLocalDescription(await pc.createOffer())
        response = await self.post_sdp(f"/whep/{stream}", token, pc.localDescription.sdp)
        assert response.status_code == 201, response.text
        viewer.location = response.headers["location"]
        await pc.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))
        return viewer

    def _read(self, viewer: Viewer, track: MediaStreamTrack) -> None:
        viewer.read(track)
        assert viewer.reader is not None
        self._tasks.append(viewer.reader)

    async def delete(self, location: str, token: str) -> httpx.Response:
        return await self.http.delete(location, headers={"Authorization": f"Bearer {token}"})

    async def vanish(self, pc: RTCPeerConnection) -> None:
        """Stop sending without a goodbye: what a camera that lost its network looks like."""
        for sender in pc.getSenders():
            sender.replaceTrack(None)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def download(peers: Peers, recording: dict[str, Any], token: str, folder: Path) -> Path:
    """A stopped recording fetched from `download` (the evidence store), to a file."""
    response = await peers.http.get(recording["download"], headers=auth(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "video/x-matroska"
    path = folder / recording["file"]
    path.write_bytes(response.content)
    return path
