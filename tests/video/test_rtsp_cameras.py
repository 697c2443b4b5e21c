"""A fixed camera pulled over RTSP: registered by an administrator with its credentials,
read only while someone watches it, let go when nobody does, reached again with back-off
when it drops. The camera is GStreamer's RTSP server on loopback (tests/video/rtsp_camera.py)
behind Basic credentials; the viewers are aiortc over WHEP.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.conftest import LiveServer, free_port
from tests.video.peers import Peers, auth

CAMERA_SCRIPT = Path(__file__).with_name("rtsp_camera.py")
SYSTEM_PYTHON = "/usr/bin/python3"
USER, PASSWORD = "admin", "Xq7-camera-pass!"


def missing_tools() -> str | None:
    """scripts/test installs gstreamer1.0-rtsp, its introspection data, the good and ugly
    plugins (RTP payloader, x264) and python3-gi."""
    if shutil.which("gst-launch-1.0") is None and not Path(SYSTEM_PYTHON).exists():
        return "Debian's python3 is not installed"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
    )
    return None if probe.returncode == 0 else "gst-rtsp-server (gir1.2-gst-rtsp-server-1.0) missing"


pytestmark = pytest.mark.skipif(missing_tools() is not None, reason=str(missing_tools()))


class RtspCamera:
    def __init__(self, port: int, path: str = "/stream1") -> None:
        self.port, self.path = port, path
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}{self.path}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, str(CAMERA_SCRIPT), str(self.port), self.path, USER, PASSWORD],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"

    def kill(self) -> None:
        """The camera loses power."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture(scope="module")
def video_settings(video_settings: Settings) -> Settings:
    return video_settings.model_copy(
        update={
            "camera_idle_seconds": 2.0,
            "camera_retry_max_seconds": 2.0,
            "video_reconnect_grace_seconds": 15.0,
        }
    )


@pytest.fixture
def camera() -> Iterator[RtspCamera]:
    made = RtspCamera(free_port())
    made.start()
    yield made
    made.kill()


def camera_id() -> str:
    return f"cam-{secrets.token_hex(4)}"


async def register(peers: Peers, admin: str, device: str, body: dict[str, Any]) -> Any:
    response = await peers.http.put(f"/api/v1/cameras/{device}", json=body, headers=auth(admin))
    assert response.status_code == 200, response.text
    return response.json()


async def pull_state(peers: Peers, admin: str, device: str) -> dict[str, Any]:
    response = await peers.http.get(f"/api/v1/cameras/{device}", headers=auth(admin))
    assert response.status_code == 200, response.text
    pull: dict[str, Any] = response.json()["pull"]
    return pull


async def until_state(
    peers: Peers, admin: str, device: str, state: str, timeout: float = 15
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pull = await pull_state(peers, admin, device)
        if pull["state"] == state:
            return pull
        await asyncio.sleep(0.2)
    raise TimeoutError(f"camera {device} did not become {state}: {pull}")


async def test_a_camera_is_pulled_when_watched_and_let_go_when_nobody_does(
    live_server: LiveServer,
    database: Database,
    peers: Peers,
    camera: RtspCamera,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    device = camera_id()
    admin = live_server.token(Role.ADMIN)
    operator = live_server.token(Role.OPERATOR, jurisdiction="331102")
    shown = await register(
        peers,
        admin,
        device,
        {
            "rtsp_url": camera.url,
            "username": USER,
            "password": PASSWORD,
            "squad_code": "LD-01",
            "label": "丽阳门路口",
        },
    )
    assert shown["rtsp_url"] == camera.url and shown["has_password"] is True
    assert PASSWORD not in str(shown) and shown["pull"]["state"] == "idle"
    async with database.sessions() as session:
        stored = (
            await session.execute(
                text("SELECT rtsp_url, sealed_password FROM cameras WHERE device_id = :d"),
                {"d": device},
            )
        ).one()
    assert PASSWORD.encode() not in bytes(stored.sealed_password)
    assert USER not in stored.rtsp_url
    # nobody watches: the camera is not read
    missing = await peers.http.get(f"/api/v1/streams/{device}", headers=auth(operator))
    assert missing.status_code == 404

    asked = time.monotonic()
    viewer = await peers.watch(device, operator)
    frames = await viewer.wait_frames(10, timeout=10)
    assert (frames[-1].width, frames[-1].height) == (640, 480)
    assert time.monotonic() - asked < 10
    assert (await pull_state(peers, admin, device))["state"] == "live"
    status = (await peers.http.get(f"/api/v1/streams/{device}", headers=auth(operator))).json()
    assert status["video_codec"] == "video/H264" and status["device"]["id"] == device

    assert (await peers.delete(viewer.location, operator)).status_code == 200
    await until_state(peers, admin, device, "idle", timeout=10)  # 2 s idle, then let go
    gone = await peers.http.get(f"/api/v1/streams/{device}", headers=auth(operator))
    assert gone.status_code == 404
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert PASSWORD not in logged and f"{USER}:" not in logged


async def test_a_camera_that_drops_is_reached_again_with_back_off(
    live_server: LiveServer, peers: Peers, camera: RtspCamera
) -> None:
    device = camera_id()
    admin = live_server.token(Role.ADMIN)
    body = {"rtsp_url": camera.url, "username": USER, "password": PASSWORD}
    await register(peers, admin, device, body)
    viewer = await peers.watch(device, admin)
    await viewer.wait_frames(5, timeout=10)

    camera.kill()
    pull = await until_state(peers, admin, device, "backing_off")
    assert pull["failures"] >= 1 and pull["last_error"]
    assert pull["retry_in"] is not None and pull["retry_in"] <= 2.0
    camera.start()  # power is back, on the same address
    await until_state(peers, admin, device, "live", timeout=20)
    await viewer.wait_frames(10, timeout=10)  # the same viewer sees it again


async def test_wrong_credentials_are_a_clear_503_and_bad_input_is_refused(
    live_server: LiveServer, peers: Peers, camera: RtspCamera
) -> None:
    device = camera_id()
    admin = live_server.token(Role.ADMIN)
    await register(
        peers,
        admin,
        device,
        {"rtsp_url": camera.url, "username": USER, "password": "wrong-pass-123"},
    )
    offer = "v=0\r\n"
    refused = await peers.http.post(
        f"/whep/{device}",
        content=offer,
        headers={**auth(admin), "Content-Type": "application/sdp"},
    )
    assert refused.status_code == 503, refused.text
    assert f"camera {device} is not live" in refused.json()["detail"]
    assert "wrong-pass-123" not in refused.text
    pull = await pull_state(peers, admin, device)
    assert pull["failures"] >= 1 and pull["state"] in ("backing_off", "connecting", "idle")

    for bad, named in (
        ({"rtsp_url": f"rtsp://{USER}:{PASSWORD}@127.0.0.1:554/x"}, "must not hold credentials"),
        ({"rtsp_url": "http://127.0.0.1/x"}, "rtsp://"),
    ):
        answer = await peers.http.put(
            f"/api/v1/cameras/{camera_id()}", json=bad, headers=auth(admin)
        )
        assert answer.status_code == 422 and named in answer.text, answer.text
        assert PASSWORD not in answer.text
    operator = live_server.token(Role.OPERATOR)
    forbidden = await peers.http.put(
        f"/api/v1/cameras/{device}", json={"rtsp_url": camera.url}, headers=auth(operator)
    )
    assert forbidden.status_code == 403
    listed = await peers.http.get("/api/v1/cameras", headers=auth(admin))
    assert [c["username"] for c in listed.json() if c["device_id"] == device] == [USER]
    assert (
        await peers.http.delete(f"/api/v1/cameras/{device}", headers=auth(admin))
    ).status_code == 204
