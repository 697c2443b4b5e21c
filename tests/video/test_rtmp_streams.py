"""An RTMP push as a stream's publisher, without nginx: which goodbye ends which push.

nginx stands in as a socket that accepts the reader's connection and never answers, so
the reader waits in its handshake and the stream stays connecting for the test.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from feeds.video.ice import IceServers
from feeds.video.model import Limits, StreamOwner, StreamState
from feeds.video.streams import VideoServer

OWNER = StreamOwner(device_id="UAV-07", kind="drone")


@pytest.fixture
def silent_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


async def test_only_the_goodbye_of_the_push_that_publishes_ends_the_stream(
    silent_port: int,
) -> None:
    video = VideoServer(ice=IceServers(), limits=Limits(connect_timeout=2.0, media_timeout=2.0))
    await video.start()
    url = f"rtmp://127.0.0.1:{silent_port}/live/UAV-07"
    try:
        video.ingest_rtmp("UAV-07", OWNER, url=url, client_id="11")
        video.ingest_rtmp("UAV-07", OWNER, url=url, client_id="12")  # the drone pushed again
        assert video.status("UAV-07").state is StreamState.CONNECTING

        assert video.end_rtmp("UAV-07", "11") is False  # the first push's late goodbye
        assert video.find("UAV-07") is not None
        assert video.end_rtmp("UAV-07", "12") is True
        assert video.find("UAV-07") is None
        assert video.end_rtmp("UAV-07", "12") is False  # said twice: nothing left to end
    finally:
        started = time.monotonic()
        await asyncio.wait_for(video.close(), 10)
    assert time.monotonic() - started < 5  # a reader stuck in its handshake lets go


async def test_a_push_that_never_shows_its_video_ends_without_a_word(silent_port: int) -> None:
    video = VideoServer(ice=IceServers(), limits=Limits(connect_timeout=1.0, media_timeout=1.0))
    await video.start()
    try:
        video.ingest_rtmp(
            "UAV-08", OWNER, url=f"rtmp://127.0.0.1:{silent_port}/live/UAV-08", client_id="3"
        )
        await asyncio.sleep(2.5)  # past the connect time-out
        assert video.find("UAV-08") is None
    finally:
        await video.close()
