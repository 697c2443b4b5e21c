"""Fixed cameras' pure rules: the RTSP URL as stored, credentials put into it for FFmpeg,
sealing them at rest, and when the puller tries again or lets a camera go."""

from __future__ import annotations

import pytest

from command_center.errors import InvalidInput, Unavailable
from command_center.video.credentials import Sealer, camera_key
from command_center.video.model import camera_url, with_credentials
from feeds.video.pulling import retry_delay, still_needed


def test_a_camera_url_is_rtsp_without_credentials() -> None:
    assert camera_url(" rtsp://10.0.0.5:554/Streaming/Channels/101 ") == (
        "rtsp://10.0.0.5:554/Streaming/Channels/101"
    )
    assert camera_url("rtsps://cam.example/live").startswith("rtsps://")
    with pytest.raises(InvalidInput, match="must not hold credentials"):
        camera_url("rtsp://admin:12345@10.0.0.5/x")
    for bad in ("http://10.0.0.5/x", "rtsp:///x", "rtsp://10.0.0.5:99999/x"):
        with pytest.raises(InvalidInput):
            camera_url(bad)


def test_credentials_are_percent_encoded_into_the_url_ffmpeg_opens() -> None:
    assert with_credentials("rtsp://h:554/p", "admin", "p@ss:w/rd") == (
        "rtsp://admin:p%40ss%3Aw%2Frd@h:554/p"
    )
    assert with_credentials("rtsp://h/p", None, "ignored") == "rtsp://h/p"
    assert with_credentials("rtsp://h/p", "viewer", None) == "rtsp://viewer@h/p"


def test_a_sealed_password_opens_only_with_its_key_and_its_camera() -> None:
    key = camera_key(configured=None, secret_key="s" * 40)
    assert key == camera_key(configured=None, secret_key="s" * 40) and len(key) == 32
    sealer = Sealer(key)
    sealed = sealer.seal("hik12345", device_id="cam-1")
    assert b"hik12345" not in sealed
    assert sealer.seal("hik12345", device_id="cam-1") != sealed  # a fresh nonce each time
    assert sealer.open(sealed, device_id="cam-1") == "hik12345"
    with pytest.raises(Unavailable, match="register the camera again"):
        sealer.open(sealed, device_id="cam-2")
    with pytest.raises(Unavailable):
        Sealer(camera_key(configured="ab" * 32, secret_key="")).open(sealed, device_id="cam-1")


def test_attempts_back_off_doubling_up_to_the_cap() -> None:
    delays = [retry_delay(n, base=1.0, cap=60.0) for n in range(0, 9)]
    assert delays == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert retry_delay(10_000, base=1.0, cap=60.0) == 60.0


def test_a_camera_is_let_go_once_nobody_has_needed_it_for_the_idle_time() -> None:
    assert still_needed(users=1, last_use=0.0, now=1000.0, idle_seconds=30)
    assert still_needed(users=0, last_use=990.0, now=1000.0, idle_seconds=30)
    assert not still_needed(users=0, last_use=960.0, now=1000.0, idle_seconds=30)
