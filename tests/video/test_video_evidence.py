"""What an operator sees on a live view becomes evidence and clues."""

from __future__ import annotations

import asyncio
import hashlib
import io
import secrets
from pathlib import Path
from typing import Any

import av
import httpx
from PIL import Image

from command_center.auth.model import Role
from tests.conftest import LiveServer
from tests.support import collect, listen
from tests.video.peers import BLUE, RED, Peers, auth, close_to, download, unique_point


def device_id() -> str:
    return f"uav-{secrets.token_hex(4)}"


def evidence_file(live_server: LiveServer, sha256: str, suffix: str = ".jpg") -> Path:
    return live_server.settings.media_dir / "originals" / sha256[:2] / f"{sha256}{suffix}"


async def new_clue(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    lon, lat = unique_point()
    response = await http.post(
        "/api/v1/clues",
        json={"matter_code": "CG-006", "lon": lon, "lat": lat, "description": "建筑垃圾"},
        headers=auth(token),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def events_of(
    http: httpx.AsyncClient, token: str, clue_id: int, kind: str
) -> list[dict[str, Any]]:
    """The clue's events of `kind`, once there is one (the relay moves them in a moment)."""
    async with asyncio.timeout(5):
        while True:
            response = await http.get(f"/api/v1/clues/{clue_id}/events", headers=auth(token))
            assert response.status_code == 200, response.text
            found = [e for e in response.json() if e["type"] == kind]
            if found:
                return found
            await asyncio.sleep(0.1)


async def test_a_snapshot_is_a_jpeg_of_the_live_picture_attached_to_a_clue(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera, squad="LD-01")
    operator = live_server.token(Role.OPERATOR)
    lon, lat = unique_point()
    reported = await peers.http.post(
        "/api/v1/telemetry", json={"lon": lon, "lat": lat, "heading": 90}, headers=auth(device)
    )
    assert reported.status_code == 200, reported.text
    await peers.publish(camera, device, colour=BLUE)
    clue = await new_clue(peers.http, operator)

    response = await peers.http.post(
        f"/api/v1/streams/{camera}/snapshot", json={"clue_id": clue["id"]}, headers=auth(operator)
    )

    assert response.status_code == 201, response.text
    evidence = response.json()
    assert evidence["kind"] == "snapshot" and evidence["media_type"] == "image/jpeg"
    assert evidence["device_id"] == camera
    assert evidence["location"] == {"lon": lon, "lat": lat, "crs": "wgs84"}
    jpeg = evidence_file(live_server, evidence["sha256"]).read_bytes()
    assert hashlib.sha256(jpeg).hexdigest() == evidence["sha256"]
    picture = Image.open(io.BytesIO(jpeg))
    assert picture.format == "JPEG" and picture.size == (640, 480)
    assert close_to(picture.convert("RGB").getpixel((320, 300)), BLUE)  # type: ignore[arg-type]

    [added] = await events_of(peers.http, operator, clue["id"], "clue.evidence_added")
    assert added["data"]["sha256"] == evidence["sha256"]
    assert added["data"]["kind"] == "snapshot"
    assert added["data"]["device_id"] == camera
    assert added["data"]["taken_at"] is not None
    assert added["data"]["location"]["lon"] == lon


async def test_a_clue_from_video_goes_through_the_loop_with_its_frame(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera, squad="LD-01")
    operator = live_server.token(Role.OPERATOR)
    await peers.publish(camera, device, colour=RED)
    lon, lat = unique_point()

    async with listen(live_server.ws_url, operator) as ws:
        response = await peers.http.post(
            f"/api/v1/streams/{camera}/clues",
            json={
                "matter_code": "CG-001",
                "lon": lon,
                "lat": lat,
                "description": "无人机发现占道经营",
                "mark": {"x": 0.4, "y": 0.6},
            },
            headers=auth(operator),
        )
        assert response.status_code == 201, response.text
        made = response.json()
        clue = made["clue"]
        events = await collect(
            ws,
            lambda es: any(
                e["type"] == "clue.evidence_added" and e["data"]["clue_id"] == clue["id"]
                for e in es
            ),
        )

    assert clue["channel"] == "video"
    assert clue["state"] == "dispatched"
    assert clue["squad_code"]
    types = [e["type"] for e in events if e["data"].get("clue_id") == clue["id"]]
    assert types == ["clue.received", "clue.dispatched", "clue.evidence_added"]
    assert made["evidence"]["kind"] == "snapshot"
    assert "x=0.400, y=0.600" in made["evidence"]["note"]
    picture = Image.open(evidence_file(live_server, made["evidence"]["sha256"]))
    assert close_to(picture.convert("RGB").getpixel((320, 300)), RED)  # type: ignore[arg-type]

    squad = live_server.token(Role.SQUAD, squad=clue["squad_code"])
    accepted = await peers.http.post(
        f"/api/v1/clues/{clue['id']}/actions", json={"action": "accept"}, headers=auth(squad)
    )
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"


async def test_a_clue_from_video_without_a_position_uses_the_devices(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera)
    operator = live_server.token(Role.OPERATOR)
    await peers.publish(camera, device)
    body = {"matter_code": "CG-001", "description": "看到了"}

    unknown = await peers.http.post(
        f"/api/v1/streams/{camera}/clues", json=body, headers=auth(operator)
    )
    assert unknown.status_code == 400
    assert "position" in unknown.json()["detail"]

    lon, lat = unique_point()
    await peers.http.post("/api/v1/telemetry", json={"lon": lon, "lat": lat}, headers=auth(device))
    made = await peers.http.post(
        f"/api/v1/streams/{camera}/clues", json=body, headers=auth(operator)
    )
    assert made.status_code == 201, made.text
    assert made.json()["clue"]["location"] == {"lon": lon, "lat": lat, "crs": "wgs84"}


async def test_a_recording_for_a_clue_is_a_playable_file_with_its_hash_in_the_record(
    live_server: LiveServer, peers: Peers, tmp_path: Path
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera, squad="LD-01")
    operator = live_server.token(Role.OPERATOR)
    await peers.publish(camera, device)
    viewer = await peers.watch(camera, operator)
    await viewer.wait_frames(3)
    clue = await new_clue(peers.http, operator)

    started = await peers.http.post(
        f"/api/v1/streams/{camera}/recording", json={"clue_id": clue["id"]}, headers=auth(operator)
    )
    assert started.status_code == 201, started.text
    again = await peers.http.post(f"/api/v1/streams/{camera}/recording", headers=auth(operator))
    assert again.status_code == 409
    await viewer.wait_frames(30)
    stopped = await peers.http.delete(f"/api/v1/streams/{camera}/recording", headers=auth(operator))

    assert stopped.status_code == 200, stopped.text
    result = stopped.json()
    # the file went to the evidence store; it is fetched from there, checked
    assert not (live_server.settings.recordings_dir / camera / result["file"]).exists()
    path = await download(peers, result, operator, tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == result["sha256"]
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 25
    assert (frames[0].width, frames[0].height) == (640, 480)
    saved = await events_of(peers.http, operator, clue["id"], "stream.recording_saved")
    assert [e["data"]["sha256"] for e in saved] == [result["sha256"]]
    assert saved[0]["data"]["device_id"] == camera


async def test_snapshots_need_a_live_stream_and_a_clue_in_scope(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera, squad="LD-01")
    operator = live_server.token(Role.OPERATOR)
    qingtian = live_server.token(Role.OPERATOR, jurisdiction="331121")
    clue = await new_clue(peers.http, operator)
    body = {"clue_id": clue["id"]}

    none = await peers.http.post(
        f"/api/v1/streams/{camera}/snapshot", json=body, headers=auth(operator)
    )
    assert none.status_code == 404
    await peers.publish(camera, device)
    outside = await peers.http.post(
        f"/api/v1/streams/{camera}/snapshot", json=body, headers=auth(qingtian)
    )
    assert outside.status_code == 403
    missing = await peers.http.post(
        f"/api/v1/streams/{camera}/snapshot", json={"clue_id": 10**9}, headers=auth(operator)
    )
    assert missing.status_code == 404
    by_device = await peers.http.post(
        f"/api/v1/streams/{camera}/snapshot", json=body, headers=auth(device)
    )
    assert by_device.status_code == 403
