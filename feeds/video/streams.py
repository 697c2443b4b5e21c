"""Live streams: one publisher session at a time, many viewers, an optional recorder.

A stream is named after the device that publishes it; its life cycle and what observers
are told of it are in `feeds.video.model`. A second publisher session for the same
stream (the device reconnected before the server noticed the first one die) replaces the
first. A publisher is a WHIP peer connection (`publish`) or a push that nginx received
over RTMP and this server reads back (`ingest_rtmp`); past that, a stream is the same.

Notices reach the observer in order, one at a time, from a task of their own: a slow
observer delays notices, never media.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from command_center.errors import Conflict, NotFound, Unavailable
from feeds.video.frames import EncodedFrame
from feeds.video.ice import IceServers
from feeds.video.model import (
    ANNOUNCED,
    Change,
    Limits,
    StreamNotice,
    StreamObserver,
    StreamOwner,
    StreamState,
    StreamStatus,
    next_state,
)
from feeds.video.recorder import Finished, Recorder, RecordingResult
from feeds.video.relay import Relay, StreamClosed, same_codec
from feeds.video.rtmp import Ending, RtmpSession
from feeds.video.sessions import (
    Publisher,
    PublisherSession,
    ViewerSession,
    negotiate_publisher,
    negotiate_viewer,
)
from feeds.video.snapshot import Snapshot, SnapshotFailed, jpeg_snapshot

log = logging.getLogger(__name__)

RECORDER_QUEUE_FRAMES = 300  # 10 s of video may wait for a slow disk
# When reading an RTMP push fails, nginx's on_publish_done may be on its way (the pusher
# was killed: the reading saw a broken connection, not the end). Waiting this long for
# it tells an ended push (the stream ends) from a failed reading (the stream drops).
RTMP_GOODBYE_WAIT = 1.5


@dataclass(eq=False)
class Stream:
    name: str
    owner: StreamOwner
    state: StreamState = StreamState.CONNECTING
    publisher: Publisher | None = None
    viewers: dict[str, ViewerSession] = field(default_factory=dict)
    relays: dict[str, Relay] = field(default_factory=dict)
    live_since: datetime | None = None
    grace: asyncio.Task[None] | None = None
    recorder: Recorder | None = None
    rtmp_client: str | None = None  # nginx's connection of the push that published it last

    def __post_init__(self) -> None:
        self.relays = {
            "video": Relay("video", request_keyframe=self.request_keyframe),
            "audio": Relay("audio"),
        }

    def request_keyframe(self) -> None:
        if self.publisher is not None:
            self.publisher.request_keyframe()

    def status(self) -> StreamStatus:
        video, audio = self.relays["video"].codec, self.relays["audio"].codec
        publisher = self.publisher
        return StreamStatus(
            name=self.name,
            owner=self.owner,
            state=self.state,
            publisher_session=publisher.id if publisher else None,
            connected=publisher is not None and publisher.connected_at is not None,
            video_codec=video.mimeType if video else None,
            audio_codec=audio.mimeType if audio else None,
            live_since=self.live_since,
            viewers=len(self.viewers),
            frames=self.relays["video"].frames,
            recording_since=self.recorder.started_at if self.recorder else None,
            recording_file=self.recorder.path.name if self.recorder else None,
        )


class VideoServer:
    """Every stream of this process. Start it, and close it to end them all."""

    def __init__(
        self, *, ice: IceServers, limits: Limits, observer: StreamObserver | None = None
    ) -> None:
        self._ice = ice
        self._limits = limits
        self._observer = observer
        self._streams: dict[str, Stream] = {}
        self._tasks: set[asyncio.Task[Any]] = set()  # closings: awaited by close()
        self._timers: set[asyncio.Task[Any]] = set()  # deadlines, watchdogs: cancelled
        self._recorders: set[Recorder] = set()
        self._notices: asyncio.Queue[StreamNotice | None] = asyncio.Queue()
        self._notifier: asyncio.Task[None] | None = None
        self._negotiating = 0  # publisher offers being answered, counted against the limit
        self._closed = False

    @property
    def limits(self) -> Limits:
        return self._limits

    async def start(self) -> None:
        self._notifier = asyncio.create_task(self._deliver_notices(), name="video-notices")

    async def close(self) -> None:
        """End every stream (recordings are finished), close every connection, then hand
        the last notices to the observer."""
        self._closed = True
        for recorder in list(self._recorders):
            await recorder.stop("server_stopping")
        for stream in list(self._streams.values()):
            self._end(stream, "server_stopping")
        while self._tasks or self._timers:
            for timer in list(self._timers):
                timer.cancel()
            await asyncio.gather(*list(self._tasks), *list(self._timers), return_exceptions=True)
        if self._notifier is not None:
            self._notices.put_nowait(None)
            await self._notifier

    # --- publishing --------------------------------------------------------------------

    async def publish(self, name: str, owner: StreamOwner, offer: str) -> PublisherSession:
        """Answer a publisher's offer for stream `name`; Unavailable at the stream limit,
        InvalidInput when the offer cannot be answered."""
        self._check_room(name)
        self._negotiating += 1
        try:
            session = await negotiate_publisher(
                offer,
                device_id=owner.device_id,
                configuration=self._ice.rtc_configuration(),
                deliver=lambda s, frame: self._on_frame(name, s, frame),
            )
        finally:
            self._negotiating -= 1
        try:
            self._check_room(name)
        except Unavailable:
            await session.close()
            raise
        stream = self._attach(name, owner, session)
        session.pc.on("connectionstatechange", lambda: self._publisher_state(stream, session))
        return session

    def ingest_rtmp(
        self, name: str, owner: StreamOwner, *, url: str, client_id: str
    ) -> RtmpSession:
        """Read stream `name` from nginx at `url`, a push nginx is about to accept: the
        stream is live once its H.264 is read, ends when the push stops. Unavailable at
        the stream limit (nginx then refuses the push)."""
        self._check_room(name)
        session = RtmpSession(
            url=url,
            client_id=client_id,
            on_open=lambda s: self._rtmp_opened(name, s),
            on_frame=lambda s, frame: self._on_frame(name, s, frame),
            on_end=lambda s, ending, detail: self._rtmp_ended(name, s, ending, detail),
            open_timeout=self._limits.connect_timeout,
            read_timeout=self._limits.media_timeout,
        )
        self._attach(name, owner, session)
        session.start()
        return session

    def pull(
        self,
        name: str,
        owner: StreamOwner,
        *,
        url: str,
        options: dict[str, str],
        on_lost: Callable[[str], None],
    ) -> RtmpSession:
        """Read stream `name` from a camera that serves it (RTSP), with PyAV as for RTMP.
        Whatever ends the reading, the stream drops (viewers wait out the grace) and
        `on_lost` gets why: the puller decides whether to try again. Unavailable at the
        stream limit."""
        self._check_room(name)

        def ended(session: RtmpSession, ending: Ending, detail: str) -> None:
            stream = self._streams.get(name)
            if stream is not None and stream.publisher is session:
                self._publisher_lost(stream, session, "camera_lost")
            on_lost(detail)

        session = RtmpSession(
            url=url,
            client_id="pull",
            on_open=lambda s: self._rtmp_opened(name, s),
            on_frame=lambda s, frame: self._on_frame(name, s, frame),
            on_end=ended,
            open_timeout=self._limits.connect_timeout,
            read_timeout=self._limits.media_timeout,
            options=options,
            source="the camera",
        )
        self._attach(name, owner, session)
        session.start()
        return session

    def demand(self, name: str) -> int:
        """How many viewers and recorders use the stream now (0 when it is gone)."""
        stream = self._streams.get(name)
        if stream is None:
            return 0
        return len(stream.viewers) + (stream.recorder is not None)

    def end_stream(self, name: str, reason: str) -> bool:
        """End a stream for everyone (`ended` with `reason`); False when there is none."""
        stream = self._streams.get(name)
        if stream is None:
            return False
        self._end(stream, reason)
        return True

    def end_rtmp(self, name: str, client_id: str) -> bool:
        """nginx says the push of connection `client_id` ended: so does the stream, if that
        push still publishes it. False when it does not (a newer push took over)."""
        stream = self._streams.get(name)
        if stream is None or stream.rtmp_client != client_id:
            return False
        if stream.publisher is not None and not isinstance(stream.publisher, RtmpSession):
            return False  # the device publishes over WHIP now
        self._end(stream, "publisher_left")
        return True

    def publisher_session(self, name: str, session_id: str) -> Publisher:
        stream = self._streams.get(name)
        if stream is None or stream.publisher is None or stream.publisher.id != session_id:
            raise NotFound(f"no publishing session {session_id} on stream {name}")
        return stream.publisher

    def end_publishing(self, name: str, session_id: str) -> None:
        """The publisher left (WHIP DELETE): the stream ends for every viewer."""
        self.publisher_session(name, session_id)
        self._end(self._streams[name], "publisher_left")

    # --- viewing -----------------------------------------------------------------------

    async def watch(self, name: str, offer: str, *, subject: str) -> ViewerSession:
        """Answer a viewer's offer; NotFound, Unavailable (viewer limit), InvalidInput."""
        stream = self._stream(name)
        self._check_viewers(stream)
        codecs = {kind: r.codec for kind, r in stream.relays.items() if r.codec is not None}
        session = await negotiate_viewer(
            offer, subject=subject, codecs=codecs, configuration=self._ice.rtc_configuration()
        )
        try:
            stream = self._stream(name)
            self._check_viewers(stream)
        except (NotFound, Unavailable):
            await session.close()
            raise
        stream.viewers[session.id] = session
        session.pc.on("connectionstatechange", lambda: self._viewer_state(stream, session))
        self._spawn(self._connect_deadline(stream, session), timer=True)
        return session

    def viewer_session(self, name: str, session_id: str) -> ViewerSession:
        stream = self._streams.get(name)
        viewer = stream.viewers.get(session_id) if stream else None
        if viewer is None:
            raise NotFound(f"no viewing session {session_id} on stream {name}")
        return viewer

    def end_viewing(self, name: str, session_id: str) -> None:
        viewer = self.viewer_session(name, session_id)
        self._drop_viewer(self._streams[name], viewer)

    # --- reading -----------------------------------------------------------------------

    def statuses(self) -> list[StreamStatus]:
        return [s.status() for s in sorted(self._streams.values(), key=lambda s: s.name)]

    def status(self, name: str) -> StreamStatus:
        return self._stream(name).status()

    def find(self, name: str) -> StreamStatus | None:
        stream = self._streams.get(name)
        return stream.status() if stream else None

    async def snapshot(self, name: str) -> Snapshot:
        """A JPEG of the next keyframe (one is requested from the camera at once).

        Unavailable when the stream has no connected publisher or no keyframe comes
        within the snapshot time-out.
        """
        stream = self._stream(name)
        if stream.publisher is None:
            raise Unavailable(f"stream {name} is {stream.state.value}: there is no picture now")
        timeout = self._limits.snapshot_timeout
        try:
            frame = await stream.relays["video"].next_keyframe(timeout)
        except TimeoutError:
            raise Unavailable(f"no picture came from stream {name} within {timeout:g} s") from None
        except StreamClosed:
            raise Unavailable(f"stream {name} ended before a picture came") from None
        try:
            return await asyncio.to_thread(jpeg_snapshot, frame)
        except SnapshotFailed as exc:
            raise Unavailable(f"the picture of stream {name} cannot be decoded: {exc}") from None

    # --- recording ---------------------------------------------------------------------

    def start_recording(self, name: str, path: Path, on_finished: Finished) -> Recorder:
        """Record the stream's video to `path` until stopped, the time limit, or the end of
        the stream; `on_finished` gets the file's hash. Conflict if already recording."""
        stream = self._stream(name)
        if stream.recorder is not None:
            raise Conflict(f"stream {name} is already being recorded")
        relay = stream.relays["video"]
        if relay.codec is None:
            raise Unavailable(f"stream {name} has no video to record yet")

        async def finished(result: RecordingResult) -> None:
            if stream.recorder is recorder:
                stream.recorder = None
            self._recorders.discard(recorder)
            await on_finished(result)

        recorder = Recorder(
            relay.subscribe(max_queue=RECORDER_QUEUE_FRAMES),
            path,
            mime_type=relay.codec.mimeType,
            max_seconds=self._limits.recording_max_seconds,
            on_finished=finished,
        )
        stream.recorder = recorder
        self._recorders.add(recorder)
        recorder.start()
        return recorder

    async def stop_recording(self, name: str) -> RecordingResult:
        stream = self._stream(name)
        if stream.recorder is None:
            raise NotFound(f"stream {name} is not being recorded")
        return await stream.recorder.stop()

    # --- internals ---------------------------------------------------------------------

    def _stream(self, name: str) -> Stream:
        stream = self._streams.get(name)
        if stream is None:
            raise NotFound(f"no live stream {name}")
        return stream

    def _check_room(self, name: str) -> None:
        if self._closed:
            raise Unavailable("the video server is stopping")
        carried = len(self._streams) + self._negotiating
        if name not in self._streams and carried >= self._limits.max_streams:
            raise Unavailable(
                f"this server already carries {self._limits.max_streams} streams, its limit"
            )

    def _check_viewers(self, stream: Stream) -> None:
        if self._closed:
            raise Unavailable("the video server is stopping")
        if len(stream.viewers) >= self._limits.max_viewers_per_stream:
            raise Unavailable(
                f"stream {stream.name} already has {len(stream.viewers)} viewers, its limit"
            )

    def _change(self, stream: Stream, change: Change) -> StreamState:
        stream.state = next_state(stream.state, change)
        return stream.state

    def _attach(self, name: str, owner: StreamOwner, session: Publisher) -> Stream:
        """Make `session` the stream's publisher (a stream is made for it if need be)."""
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = Stream(name, owner)
        stream.owner = owner
        self._change(stream, Change.PUBLISH)
        replaced, stream.publisher = stream.publisher, session
        stream.rtmp_client = session.client_id if isinstance(session, RtmpSession) else None
        if replaced is not None:
            self._spawn(replaced.close())
        self._begin_epoch(stream, session)
        self._spawn(self._connect_deadline(stream, session), timer=True)
        return stream

    def _rtmp_opened(self, name: str, session: RtmpSession) -> None:
        stream = self._streams.get(name)
        if stream is not None and stream.publisher is session and session.connected_at is None:
            self._connected(stream, session)

    def _rtmp_ended(self, name: str, session: RtmpSession, ending: Ending, detail: str) -> None:
        stream = self._streams.get(name)
        if stream is None or stream.publisher is not session:
            return
        log.info("RTMP stream %s: %s", name, detail)
        if ending is Ending.PUBLISHER_LEFT and session.connected_at is not None:
            self._end(stream, "publisher_left")
        elif session.connected_at is None:
            self._publisher_lost(stream, session, "rtmp_read_failed")
        else:
            self._spawn(self._rtmp_goodbye(stream, session), timer=True)

    async def _rtmp_goodbye(self, stream: Stream, session: RtmpSession) -> None:
        await asyncio.sleep(RTMP_GOODBYE_WAIT)  # end_rtmp ends the stream meanwhile, or not
        self._publisher_lost(stream, session, "rtmp_read_failed")

    def _begin_epoch(self, stream: Stream, session: Publisher) -> None:
        video = session.codecs.get("video")
        current = stream.relays["video"].codec
        if video is not None and current is not None and not same_codec(video, current):
            for viewer in list(stream.viewers.values()):  # they negotiated another codec
                self._drop_viewer(stream, viewer)
        for kind, relay in stream.relays.items():
            relay.begin_epoch(session.codecs.get(kind))

    def _on_frame(self, name: str, session: Publisher, frame: EncodedFrame) -> None:
        stream = self._streams.get(name)
        if stream is None or stream.publisher is not session:
            return
        session.last_frame = frame.arrived
        if frame.keyframe and frame.kind == "video":
            session.keyframe_arrived()
        stream.relays[frame.kind].publish(frame)

    def _publisher_state(self, stream: Stream, session: PublisherSession) -> None:
        if stream.publisher is not session or session.closing:
            return
        state = session.pc.connectionState
        if state == "connected" and session.connected_at is None:
            self._connected(stream, session)
        elif state in ("failed", "closed"):
            self._publisher_lost(stream, session, f"connection_{state}")

    def _connected(self, stream: Stream, session: Publisher) -> None:
        reconnect = stream.state is not StreamState.CONNECTING
        session.connected_at = time.monotonic()
        self._change(stream, Change.CONNECT)
        if stream.grace is not None:
            stream.grace.cancel()
            stream.grace = None
        if stream.live_since is None:
            stream.live_since = datetime.now(UTC)
        video = session.codecs.get("video")
        self._notify(stream, "started", session, reconnect=reconnect, codec=video)
        self._spawn(self._watch_media(stream, session), timer=True)

    def _publisher_lost(self, stream: Stream, session: Publisher, reason: str) -> None:
        if stream.publisher is not session:
            return
        stream.publisher = None
        self._spawn(session.close())
        before = stream.state
        change = Change.DROP if session.connected_at is not None else Change.FAIL
        after = self._change(stream, change)
        if after is StreamState.ENDED:
            self._forget(stream)
        elif before is StreamState.LIVE:
            self._notify(stream, "dropped", session, reason=reason)
            stream.grace = self._spawn(self._grace(stream), timer=True)

    def _end(self, stream: Stream, reason: str) -> None:
        before = stream.state
        self._change(stream, Change.END)
        publisher, stream.publisher = stream.publisher, None
        if publisher is not None:
            self._spawn(publisher.close())
        self._forget(stream)
        if before in ANNOUNCED:
            self._notify(stream, "ended", publisher, reason=reason)

    def _forget(self, stream: Stream) -> None:
        if self._streams.get(stream.name) is stream:
            del self._streams[stream.name]
        if stream.grace is not None:
            stream.grace.cancel()
            stream.grace = None
        for viewer in list(stream.viewers.values()):
            self._drop_viewer(stream, viewer)
        for relay in stream.relays.values():
            relay.close()

    def _viewer_state(self, stream: Stream, session: ViewerSession) -> None:
        if session.closing or stream.viewers.get(session.id) is not session:
            return
        state = session.pc.connectionState
        if state == "connected" and session.connected_at is None:
            session.connected_at = time.monotonic()
            session.attach(stream.relays)
        elif state in ("failed", "closed"):
            self._drop_viewer(stream, session)

    def _drop_viewer(self, stream: Stream, session: ViewerSession) -> None:
        stream.viewers.pop(session.id, None)
        self._spawn(session.close())

    async def _connect_deadline(self, stream: Stream, session: Publisher | ViewerSession) -> None:
        await asyncio.sleep(self._limits.connect_timeout)
        if session.connected_at is not None or session.closing:
            return
        log.info("video session %s did not connect in time; closing it", session.id[:6])
        if isinstance(session, ViewerSession):
            self._drop_viewer(stream, session)
        else:
            self._publisher_lost(stream, session, "connect_timeout")

    async def _watch_media(self, stream: Stream, session: Publisher) -> None:
        timeout = self._limits.media_timeout
        while stream.publisher is session and not session.closing:
            await asyncio.sleep(min(1.0, timeout / 4))
            last = max(session.connected_at or 0.0, session.last_frame or 0.0)
            if stream.publisher is session and time.monotonic() - last > timeout:
                self._publisher_lost(stream, session, "no_media")

    async def _grace(self, stream: Stream) -> None:
        await asyncio.sleep(self._limits.reconnect_grace)
        stream.grace = None
        if stream.state is StreamState.RECONNECTING and self._streams.get(stream.name) is stream:
            self._end(stream, "not_reconnected")

    def _notify(
        self,
        stream: Stream,
        kind: str,
        session: Publisher | None,
        *,
        reason: str | None = None,
        reconnect: bool = False,
        codec: RTCRtpCodecParameters | None = None,
    ) -> None:
        self._notices.put_nowait(
            StreamNotice(
                type=kind,
                stream=stream.name,
                owner=stream.owner,
                at=datetime.now(UTC),
                session_id=session.id if session else None,
                reason=reason,
                reconnect=reconnect,
                codec=codec.mimeType if codec is not None else None,
            )
        )

    async def _deliver_notices(self) -> None:
        while (notice := await self._notices.get()) is not None:
            if self._observer is None:
                continue
            try:
                await self._observer.notify(notice)
            except Exception:
                log.exception(
                    "recording the video notice %s of %s failed", notice.type, notice.stream
                )

    def _spawn(self, work: Coroutine[Any, Any, Any], *, timer: bool = False) -> asyncio.Task[Any]:
        task = asyncio.create_task(work)
        (self._timers if timer else self._tasks).add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._timers.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("video task failed: %r", task.exception())
