"""Peer connections of one publisher (WHIP) or one viewer (WHEP), negotiated on aiortc.

Negotiation is complete when these functions return: aiortc gathers every local candidate
before it produces an answer, so answers carry all candidates and there is no trickle.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.codecs import get_capabilities
from aiortc.exceptions import InvalidAccessError, InvalidStateError, OperationError
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters

from command_center.errors import InvalidInput
from feeds.video import tap
from feeds.video.frames import EncodedFrame
from feeds.video.relay import Relay, RelayTrack
from feeds.video.sdp import MEDIA_KINDS, answer_codec

KEYFRAME_RETRY = 0.5  # seconds before an unanswered keyframe request is repeated
NEGOTIATION_ERRORS = (ValueError, InvalidAccessError, InvalidStateError, OperationError)


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


class Publisher(Protocol):
    """What a stream needs of its publisher, whether a WHIP peer connection or a stream
    read from elsewhere (feeds.video.rtmp): its codecs, whether and when it connected and
    last sent a frame, and a way to ask it for a keyframe and to close it."""

    id: str
    codecs: dict[str, RTCRtpCodecParameters]
    connected_at: float | None
    last_frame: float | None
    closing: bool

    def request_keyframe(self) -> None: ...

    def keyframe_arrived(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(eq=False)
class Session:
    """One peer connection; `connected_at` is set when ICE and DTLS are up."""

    pc: RTCPeerConnection
    answer: str
    id: str = field(default_factory=new_session_id)
    created: float = field(default_factory=time.monotonic)
    connected_at: float | None = None
    closing: bool = False

    async def close(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):  # closing a half-negotiated pc may raise
            await self.pc.close()


@dataclass(eq=False)
class PublisherSession(Session):
    device_id: str = ""
    codecs: dict[str, RTCRtpCodecParameters] = field(default_factory=dict)
    receivers: dict[str, RTCRtpReceiver] = field(default_factory=dict)
    last_frame: float | None = None
    _keyframe_requested: float | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def request_keyframe(self) -> None:
        """Ask the camera for a keyframe (RTCP PLI), unless one was asked for less than
        KEYFRAME_RETRY ago and has not come yet: the one coming serves every asker."""
        receiver = self.receivers.get("video")
        now = time.monotonic()
        pending = self._keyframe_requested
        if receiver is None or self.closing:
            return
        if pending is not None and now - pending < KEYFRAME_RETRY:
            return
        self._keyframe_requested = now
        task = asyncio.create_task(tap.request_keyframe(receiver))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def keyframe_arrived(self) -> None:
        self._keyframe_requested = None


@dataclass(eq=False)
class ViewerSession(Session):
    subject: str = ""
    transceivers: dict[str, RTCRtpTransceiver] = field(default_factory=dict)
    tracks: list[RelayTrack] = field(default_factory=list)

    def attach(self, relays: dict[str, Relay]) -> None:
        """Start sending: subscribe each negotiated kind to its relay (from a keyframe)."""
        for kind, transceiver in self.transceivers.items():
            relay = relays.get(kind)
            if relay is None:
                continue
            track = relay.subscribe()
            self.tracks.append(track)
            transceiver.sender.replaceTrack(track)
            # The viewer's picture-loss requests go to the camera: nothing here encodes.
            transceiver.sender._send_keyframe = relay.request_keyframe  # type: ignore[method-assign]

    async def close(self) -> None:
        for track in self.tracks:
            track.stop()
        await super().close()


async def negotiate_publisher(
    offer: str,
    *,
    device_id: str,
    configuration: RTCConfiguration,
    deliver: Callable[[PublisherSession, EncodedFrame], None],
) -> PublisherSession:
    """Answer a WHIP offer: receive its audio and video, tapped before any decoding.

    InvalidInput when the offer cannot be answered (no codec in common, bad parameters).
    """
    pc = RTCPeerConnection(configuration)
    session = PublisherSession(pc=pc, answer="", device_id=device_id)
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        for transceiver in pc.getTransceivers():
            if transceiver.kind in MEDIA_KINDS and transceiver.kind not in session.receivers:
                transceiver.direction = "recvonly"
                session.receivers[transceiver.kind] = transceiver.receiver
                tap.tap_receiver(
                    transceiver.receiver,
                    transceiver.kind,
                    lambda frame: deliver(session, frame),
                )
            else:
                transceiver.direction = "inactive"
        await pc.setLocalDescription(await pc.createAnswer())
    except NEGOTIATION_ERRORS as exc:
        await session.close()
        raise InvalidInput(f"the offer cannot be answered: {_reason(exc)}") from None
    except BaseException:
        await session.close()
        raise
    session.answer = pc.localDescription.sdp
    for kind in MEDIA_KINDS:
        codec = answer_codec(session.answer, kind)
        if codec is not None:
            session.codecs[kind] = codec
    if "video" not in session.codecs:
        await session.close()
        raise InvalidInput("no video codec in common: this server takes VP8 or H.264")
    return session


async def negotiate_viewer(
    offer: str,
    *,
    subject: str,
    codecs: dict[str, RTCRtpCodecParameters],
    configuration: RTCConfiguration,
) -> ViewerSession:
    """Answer a WHEP offer with send-only sections in the stream's own codecs.

    InvalidInput when the viewer cannot receive the stream's video codec.
    """
    pc = RTCPeerConnection(configuration)
    session = ViewerSession(pc=pc, answer="", subject=subject)
    try:
        for kind, codec in codecs.items():
            transceiver = pc.addTransceiver(kind, direction="sendonly")
            transceiver.setCodecPreferences(_preferences(codec))
            session.transceivers[kind] = transceiver
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
    except OperationError:
        await session.close()
        video = codecs["video"].mimeType.split("/")[-1]
        raise InvalidInput(f"the viewer cannot receive this stream's codec, {video}") from None
    except NEGOTIATION_ERRORS as exc:
        await session.close()
        raise InvalidInput(f"the offer cannot be answered: {_reason(exc)}") from None
    except BaseException:
        await session.close()
        raise
    session.answer = pc.localDescription.sdp
    # A kind the viewer did not offer to receive stays unused.
    session.transceivers = {k: t for k, t in session.transceivers.items() if t.mid is not None}
    if "video" not in session.transceivers:
        await session.close()
        raise InvalidInput("the offer must receive video")
    return session


def _preferences(codec: RTCRtpCodecParameters) -> list[RTCRtpCodecCapability]:
    """The capability matching exactly the publisher's codec, plus retransmission."""
    mime = codec.mimeType.lower()
    chosen = [
        c
        for c in get_capabilities(codec.mimeType.split("/")[0]).codecs
        if c.mimeType.lower() == mime and (mime != "video/h264" or c.parameters == codec.parameters)
    ]
    rtx = [c for c in get_capabilities("video").codecs if c.mimeType.lower() == "video/rtx"]
    return chosen + (rtx if mime.startswith("video/") else [])


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:200] if text else type(exc).__name__
