"""A drone pushes RTMP to nginx; operators watch it over WHEP like any WHIP camera.

Everything is real: nginx with Debian's RTMP module, configured by `command-center
rtmp-config`, calling this service back; ffmpeg pushing H.264 + AAC; aiortc viewers.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from command_center.auth.model import Role
from command_center.settings import Settings
from tests.conftest import LiveServer, free_port
from tests.support import collect, listen
from tests.video.peers import Peers, auth, download, unique_point
from tests.video.rtmp_servers import Nginx, Pusher, missing_tools, start_nginx

pytestmark = pytest.mark.skipif(missing_tools() is not None, reason=str(missing_tools()))


@pytest.fixture(scope="module")
def rtmp_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def video_settings(video_settings: Settings, rtmp_port: int) -> Settings:
    return video_settings.model_copy(update={"rtmp_read_url": f"rtmp://127.0.0.1:{rtmp_port}/live"})


@pytest.fixture(scope="module")
def nginx(live_server: LiveServer, rtmp_port: int) -> Iterator[Nginx]:
    prefix = Path(tempfile.mkdtemp(prefix="command-center-rtmp-"))
    server = start_nginx(
        live_server.settings, prefix=prefix, port=rtmp_port, service_url=live_server.url
    )
    yield server
    server.stop()


@pytest.fixture
def pushers() -> Iterator[list[Pusher]]:
    made: list[Pusher] = []
    yield made
    for pusher in made:
        pusher.kill()


def drone_id() -> str:
    return f"uav-{secrets.token_hex(4)}"


async def push_settings(peers: Peers, device_token: str) -> dict[str, str]:
    """What the device is told to enter in its RTMP settings (GET /api/v1/rtmp/push)."""
    response = await peers.http.get("/api/v1/rtmp/push", headers=auth(device_token))
    assert response.status_code == 200, response.text
    settings: dict[str, str] = response.json()
    return settings


def push(nginx: Nginx, pushers: list[Pusher], key: str) -> Pusher:
    pusher = Pusher(f"rtmp://127.0.0.1:{nginx.port}/live/{key}")
    pushers.append(pusher)
    return pusher


async def live_status(peers: Peers, stream: str, token: str, timeout: float = 15) -> Any:
    """The stream's status once it is live and connected."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await peers.http.get(f"/api/v1/streams/{stream}", headers=auth(token))
        if response.status_code == 200 and response.json()["connected"]:
            return response.json()
        await asyncio.sleep(0.2)
    raise TimeoutError(f"stream {stream} did not go live in {timeout} s")


def stream_event(stream: str, kind: str) -> Any:
    return lambda events: any(
        e["type"] == kind and e["data"].get("stream") == stream for e in events
    )


def of_stream(events: list[dict[str, Any]], stream: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind and e["data"].get("stream") == stream]


async def test_an_rtmp_push_is_watched_over_whep_within_3_seconds(
    live_server: LiveServer, nginx: Nginx, peers: Peers, pushers: list[Pusher]
) -> None:
    drone = drone_id()
    device = live_server.token(Role.DEVICE, device=drone, squad="LD-01")
    operator = live_server.token(Role.OPERATOR, jurisdiction="331102")
    told = await push_settings(peers, device)
    assert told["url"] == f"rtmp://127.0.0.1:{nginx.port}/live/{told['stream_key']}"
    assert told["stream_key"].startswith(f"{drone}?token=")
    async with listen(live_server.ws_url, operator) as ws:
        push(nginx, pushers, told["stream_key"])
        status = await live_status(peers, drone, operator)
        events = await collect(ws, stream_event(drone, "stream.started"), timeout=10)
        [started] = of_stream(events, drone, "stream.started")
    assert status["video_codec"] == "video/H264"
    assert status["audio_codec"] is None  # AAC is not relayed
    assert status["device"]["id"] == drone and status["whep"] == f"/whep/{drone}"
    assert started["data"]["codec"] == "video/H264" and started["data"]["device_id"] == drone

    asked = time.monotonic()
    viewer = await peers.watch(drone, operator)
    first = (await viewer.wait_frames(1, timeout=3))[0]  # more may have come at once
    assert time.monotonic() - asked < 3
    assert (first.width, first.height) == (640, 480)
    frames = await viewer.wait_frames(25, timeout=5)  # and it keeps coming, at 25 fps
    assert frames[-1].width == 640


async def test_snapshots_clues_and_recordings_work_for_an_rtmp_drone(
    live_server: LiveServer, nginx: Nginx, peers: Peers, pushers: list[Pusher], tmp_path: Path
) -> None:
    drone = drone_id()
    device = live_server.token(Role.DEVICE, device=drone, squad="LD-01")
    operator = live_server.token(Role.OPERATOR)
    push(nginx, pushers, (await push_settings(peers, device))["stream_key"])
    await live_status(peers, drone, operator)

    recording = await peers.http.post(f"/api/v1/streams/{drone}/recording", headers=auth(operator))
    assert recording.status_code == 201, recording.text
    lon, lat = unique_point()
    made = await peers.http.post(
        f"/api/v1/streams/{drone}/clues",
        json={"matter_code": "CG-001", "lon": lon, "lat": lat, "description": "无人机发现占道"},
        headers=auth(operator),
    )
    assert made.status_code == 201, made.text
    evidence = made.json()["evidence"]
    assert evidence["kind"] == "snapshot" and "640×480 H264" in evidence["note"]
    await asyncio.sleep(1.5)
    stopped = await peers.http.delete(f"/api/v1/streams/{drone}/recording", headers=auth(operator))
    assert stopped.status_code == 200, stopped.text
    result = stopped.json()
    # the file went to the evidence store; it is fetched from there, checked
    assert not (live_server.settings.recordings_dir / drone / result["file"]).exists()
    path = await download(peers, result, operator, tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == result["sha256"]
    assert result["frames"] >= 25
    with av.open(str(path)) as played:  # the camera's own H.264, playable as it is
        video = played.streams.video[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 640, 480)
        assert sum(1 for _ in played.decode(video)) >= 25


async def test_the_token_may_be_the_stream_key(
    live_server: LiveServer, nginx: Nginx, peers: Peers, pushers: list[Pusher]
) -> None:
    drone = drone_id()
    device = live_server.token(Role.DEVICE, device=drone)
    operator = live_server.token(Role.OPERATOR)
    key = (await push_settings(peers, device))["key_as_stream_key"]
    push(nginx, pushers, key)  # the drone's app has no room for a `?`: the key alone
    status = await live_status(peers, drone, operator)
    assert status["name"] == drone
    viewer = await peers.watch(drone, operator)
    await viewer.wait_frames(5, timeout=5)
    assert key not in nginx.logs()


async def test_a_push_with_a_wrong_key_is_refused_and_logged_without_it(
    live_server: LiveServer,
    nginx: Nginx,
    peers: Peers,
    pushers: list[Pusher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    drone, other = drone_id(), drone_id()
    mine = await push_settings(peers, live_server.token(Role.DEVICE, device=drone))
    forged = mine["key_as_stream_key"][:-4] + "AAAA"
    someone_elses = await push_settings(peers, live_server.token(Role.DEVICE, device=other))
    full_token = live_server.token(Role.DEVICE, device=drone)  # longer than nginx takes
    operator = live_server.token(Role.OPERATOR)
    caplog.set_level(logging.INFO, logger="command_center.video.router")

    secrets_sent = (forged, someone_elses["key_as_stream_key"], full_token)
    for secret in secrets_sent:
        errors = push(nginx, pushers, f"{drone}?token={secret}").refused()
        assert "error" in errors.lower(), errors
    push(nginx, pushers, forged).refused()  # as the stream key, too

    response = await peers.http.get(f"/api/v1/streams/{drone}", headers=auth(operator))
    assert response.status_code == 404
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 4, refusals
    assert all(f"live/{drone} from 127.0.0.1 refused" in line for line in refusals[:3])
    assert "the push key is not valid" in refusals[0]
    assert f"publishes /whip/{other}, not /whip/{drone}" in refusals[1]
    assert "the token is not valid" in refusals[2]  # cut at 255 bytes by nginx
    assert "(the token as stream key)" in refusals[3]
    for secret in (*secrets_sent, mine["key_as_stream_key"]):
        assert all(secret not in r.getMessage() for r in caplog.records)
        assert secret not in nginx.logs()


async def test_killing_the_pusher_ends_the_stream(
    live_server: LiveServer, nginx: Nginx, peers: Peers, pushers: list[Pusher]
) -> None:
    drone = drone_id()
    device = live_server.token(Role.DEVICE, device=drone, squad="LD-01")
    operator = live_server.token(Role.OPERATOR, jurisdiction="331102")
    stream_key = (await push_settings(peers, device))["stream_key"]
    pusher = push(nginx, pushers, stream_key)
    await live_status(peers, drone, operator)
    viewer = await peers.watch(drone, operator)
    await viewer.wait_frames(5, timeout=5)

    async with listen(live_server.ws_url, operator) as ws:
        pusher.kill()
        events = await collect(ws, stream_event(drone, "stream.ended"), timeout=10)
    [ended] = of_stream(events, drone, "stream.ended")
    assert ended["data"]["reason"] == "publisher_left"
    assert of_stream(events, drone, "stream.dropped") == []
    await asyncio.wait_for(viewer.ended.wait(), 5)
    response = await peers.http.get(f"/api/v1/streams/{drone}", headers=auth(operator))
    assert response.status_code == 404

    again = push(nginx, pushers, stream_key)  # the drone comes back
    await live_status(peers, drone, operator)
    again.kill()
