"""A live server per module with video settings: host candidates on loopback only,
short time-outs so that drops and reconnects happen within a test."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from command_center.db.session import Database
from command_center.settings import Settings
from tests.conftest import LiveServer, start_server
from tests.video.peers import Peers


@pytest.fixture(scope="module")
def video_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "ice_host_addresses": ["127.0.0.1"],
            "recordings_dir": Path(tempfile.mkdtemp(prefix="command-center-recordings-")),
            "video_connect_timeout_seconds": 5.0,
            "video_media_timeout_seconds": 2.0,
            "video_reconnect_grace_seconds": 3.0,
            "video_snapshot_timeout_seconds": 4.0,
            "video_max_viewers_per_stream": 3,
        }
    )


@pytest.fixture(scope="module")
def live_server(database: Database, video_settings: Settings) -> Iterator[LiveServer]:
    server = start_server(video_settings)
    yield server
    server.stop()


@pytest.fixture
async def peers(live_server: LiveServer) -> AsyncIterator[Peers]:
    """WHIP publishers and WHEP viewers on aiortc; every one is closed after the test."""
    async with Peers(live_server.url) as made:
        yield made
