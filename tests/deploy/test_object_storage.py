"""Evidence on shared storage: two hosts with MEDIA_STORE=s3 on one bucket of an
S3-compatible server (moto's server mode, which speaks the S3 REST protocol, on
loopback: a stand-in for MinIO or a government cloud's object service). A photo
uploaded through one host is served by the other, which never received it; nothing is
written to either host's disk; a file whose bytes no longer match its SHA-256 is
reported and refused, on the bucket and in the local folder alike."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from mypy_boto3_s3 import S3Client

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.errors import Damaged
from command_center.evidence.storage import DirectoryStore, object_store
from command_center.settings import Settings
from tests.api.test_residents import jpeg_with_position, send_tip
from tests.conftest import LiveServer, free_port, start_server
from tests.video.peers import Peers, auth

BUCKET = "evidence"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(url, timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("moto server did not start") from None
                    time.sleep(0.1)
            bucket(url).create_bucket(Bucket=BUCKET)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)


def bucket(url: str) -> S3Client:
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1")


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


@pytest.fixture
def two_hosts(
    database: Database, settings: Settings, s3_endpoint: str, tmp_path: Path
) -> Iterator[tuple[LiveServer, LiveServer]]:
    def host(name: str) -> LiveServer:
        (tmp_path / name).mkdir()
        return start_server(
            settings.model_copy(
                update={
                    "media_store": "s3",
                    "media_s3_bucket": BUCKET,
                    "media_s3_prefix": "lishui",
                    "media_s3_endpoint_url": s3_endpoint,
                    "media_dir": tmp_path / name,
                }
            )
        )

    a, b = host("a"), host("b")
    yield a, b
    a.stop()
    b.stop()


async def test_a_photo_uploaded_through_one_host_is_served_by_another(
    two_hosts: tuple[LiveServer, LiveServer],
    s3_endpoint: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = two_hosts
    original = jpeg_with_position()
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as on_a,
        httpx.AsyncClient(base_url=b.url, timeout=10) as on_b,
    ):
        sent = await send_tip(on_a, photos=[("p.jpg", original, "image/jpeg")])
        assert sent.status_code == 201, sent.text
        code = sent.json()["service_request_id"]
        operator = {"Authorization": f"Bearer {b.token(Role.OPERATOR)}"}
        clues = (await on_b.get("/api/v1/clues", headers=operator)).json()
        clue = next(c for c in clues if c["service_request_id"] == code)
        [item] = (await on_b.get(f"/api/v1/clues/{clue['id']}/evidence", headers=operator)).json()
        served = await on_b.get(item["url"], headers=operator)
        assert served.status_code == 200
        assert hashlib.sha256(served.content).hexdigest() == hashlib.sha256(original).hexdigest()
        progress = sent.json()["progress_code"]
        [public_url] = (await on_b.get(f"/api/v1/public/clues/{progress}")).json()["photos"]
        assert (await on_b.get(public_url)).status_code == 200
        assert files_under(tmp_path) == [], "nothing on either host's disk"

        s3 = bucket(s3_endpoint)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
        original_key = next(k for k in keys if k.startswith("lishui/originals/"))
        s3.put_object(Bucket=BUCKET, Key=original_key, Body=b"not the photo")
        with caplog.at_level(logging.ERROR, logger="command_center.evidence.storage"):
            damaged = await on_b.get(item["url"], headers=operator)
        assert damaged.status_code == 500
        assert damaged.json()["error"] == "evidence_damaged"
        assert b"not the photo" not in damaged.content
        assert "fails its SHA-256 check" in caplog.text


def test_a_damaged_file_in_the_local_folder_is_refused(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    key = store.put(b"photo bytes", "image/jpeg", area="originals")
    assert store.get(key) == b"photo bytes"
    store.path(key).write_bytes(b"photo bytez")
    with pytest.raises(Damaged, match="integrity check"):
        store.get(key)


# --- recordings: streamed to the bucket, served by another host (issue 21) ----------------


def test_a_large_file_is_streamed_in_parts_and_read_back_checked(
    s3_endpoint: str, tmp_path: Path
) -> None:
    store = object_store(bucket=BUCKET, prefix="big", endpoint_url=s3_endpoint, region="us-east-1")
    recording = tmp_path / "long.mkv"
    with recording.open("wb") as out:  # 20 MiB, more than boto3's 8 MiB multipart threshold
        for block in range(20):
            out.write(bytes([block]) * (1024 * 1024))
    digest = hashlib.sha256(recording.read_bytes()).hexdigest()
    key = store.put_file(recording, "video/x-matroska", area="recordings", sha256=digest)
    assert key == f"recordings/{digest[:2]}/{digest}.mkv"
    head = bucket(s3_endpoint).head_object(Bucket=BUCKET, Key=f"big/{key}")
    assert head["ContentLength"] == 20 * 1024 * 1024
    assert head["ETag"].strip('"').endswith("-3"), "three 8 MiB parts"
    with store.get_file(key) as fetched:
        assert hashlib.sha256(fetched.read_bytes()).hexdigest() == digest

    with pytest.raises(Damaged):  # bytes changed since the hash was taken: not stored
        store.put_file(recording, "video/x-matroska", area="recordings", sha256="0" * 64)
    listed = bucket(s3_endpoint).list_objects_v2(Bucket=BUCKET, Prefix="big/recordings/0")
    assert listed.get("KeyCount", 0) == 0
    bucket(s3_endpoint).put_object(Bucket=BUCKET, Key=f"big/{key}", Body=b"cut short")
    with pytest.raises(Damaged), store.get_file(key):
        pass


async def test_a_recording_made_on_one_host_is_served_by_another(
    database: Database, settings: Settings, s3_endpoint: str, tmp_path: Path
) -> None:
    def host(name: str) -> LiveServer:
        return start_server(
            settings.model_copy(
                update={
                    "media_store": "s3",
                    "media_s3_bucket": BUCKET,
                    "media_s3_prefix": "lishui",
                    "media_s3_endpoint_url": s3_endpoint,
                    "media_dir": tmp_path / name / "media",
                    "recordings_dir": tmp_path / name / "recordings",
                    "ice_host_addresses": ["127.0.0.1"],
                }
            )
        )

    a, b = host("a"), host("b")
    try:
        camera = f"bc-{secrets.token_hex(4)}"
        operator = a.token(Role.OPERATOR)
        async with Peers(a.url) as on_a, httpx.AsyncClient(base_url=b.url, timeout=10) as on_b:
            await on_a.publish(camera, a.token(Role.DEVICE, device=camera, squad="LD-01"))
            viewer = await on_a.watch(camera, operator)
            await viewer.wait_frames(3)
            started = await on_a.http.post(
                f"/api/v1/streams/{camera}/recording", headers=auth(operator)
            )
            assert started.status_code == 201, started.text
            await viewer.wait_frames(25)
            stopped = await on_a.http.delete(
                f"/api/v1/streams/{camera}/recording", headers=auth(operator)
            )
            assert stopped.status_code == 200, stopped.text
            result = stopped.json()
            assert result["download"] == f"/api/v1/recordings/{started.json()['id']}/file"

            served = await on_b.get(result["download"], headers=auth(b.token(Role.OPERATOR)))
            assert served.status_code == 200, served.text
            assert hashlib.sha256(served.content).hexdigest() == result["sha256"]
            expected = base64.b64encode(bytes.fromhex(result["sha256"])).decode()
            assert served.headers["repr-digest"] == f"sha-256=:{expected}:"
            assert files_under(tmp_path / "a" / "recordings") == [], "moved to the bucket"
            outside = await on_b.get(
                result["download"],
                headers=auth(b.token(Role.OPERATOR, jurisdiction="331121")),
            )
            assert outside.status_code == 403
    finally:
        a.stop()
        b.stop()
