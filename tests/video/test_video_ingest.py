"""A body camera publishes over WHIP; operators watch it over WHEP and see its picture."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from command_center.auth.model import Role
from tests.conftest import LiveServer
from tests.support import collect, listen
from tests.video.peers import BLUE, RED, Peers, auth, close_to, mean_colour


def device_id() -> str:
    return f"bc-{secrets.token_hex(4)}"


def stream_events(stream: str, *types: str) -> Any:
    return lambda events: all(
        any(e["type"] == t and e["data"].get("stream") == stream for e in events) for t in types
    )


async def test_a_published_camera_is_seen_by_two_viewers_in_its_colours(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera, squad="LD-01")
    operator = live_server.token(Role.OPERATOR)

    await peers.publish(camera, device, colour=BLUE)
    first = await peers.watch(camera, operator)
    second = await peers.watch(camera, operator)

    for viewer in (first, second):
        frames = await viewer.wait_frames(15)
        assert (frames[-1].width, frames[-1].height) == (640, 480)
        assert close_to(mean_colour(frames[-1]), BLUE)

    listed = (await peers.http.get("/api/v1/streams", headers=auth(operator))).json()
    [mine] = [s for s in listed if s["name"] == camera]
    assert mine["state"] == "live" and mine["connected"]
    assert mine["viewers"] == 2
    assert mine["video_codec"] == "video/VP8"
    assert mine["device"] == {
        "id": camera,
        "kind": "body_camera",
        "squad_code": "LD-01",
        "label": "",
    }
    assert mine["whep"] == f"/whep/{camera}"


async def test_a_viewer_that_vanishes_costs_the_others_nothing(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera)
    operator = live_server.token(Role.OPERATOR)
    await peers.publish(camera, device)
    leaving = await peers.watch(camera, operator)
    staying = await peers.watch(camera, operator)
    await leaving.wait_frames(5)

    await leaving.pc.close()  # gone, without a WHEP DELETE

    frames = await staying.wait_frames(30, timeout=5)
    assert close_to(mean_colour(frames[-1]), RED)
    await asyncio.sleep(0.5)
    [status] = ((await peers.http.get(f"/api/v1/streams/{camera}", headers=auth(operator))).json(),)
    assert status["viewers"] == 1


async def test_stream_start_and_end_are_events_and_ending_closes_the_viewers(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera, squad="LD-01")
    operator = live_server.token(Role.OPERATOR, jurisdiction="331102")  # LD-01 serves 莲都区
    async with listen(live_server.ws_url, operator) as ws:
        publisher = await peers.publish(camera, device)
        viewer = await peers.watch(camera, operator)
        await viewer.wait_frames(5)

        response = await peers.delete(publisher.location, device)
        assert response.status_code == 200

        events = await collect(ws, stream_events(camera, "stream.started", "stream.ended"))
    # this camera's: an earlier test's camera may end (its grace runs out) meanwhile
    started = next(
        e for e in events if e["type"] == "stream.started" and e["data"]["stream"] == camera
    )
    ended = next(e for e in events if e["type"] == "stream.ended" and e["data"]["stream"] == camera)
    assert started["data"]["device_id"] == camera
    assert started["data"]["reconnect"] is False
    assert started["data"]["codec"] == "video/VP8"
    assert ended["data"]["reason"] == "publisher_left"
    await asyncio.wait_for(viewer.ended.wait(), 5)
    response = await peers.http.get(f"/api/v1/streams/{camera}", headers=auth(operator))
    assert response.status_code == 404
    assert (await peers.delete(publisher.location, device)).status_code == 404


async def test_operators_see_only_the_streams_in_their_scope(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera, squad="LD-01")
    liandu = live_server.token(Role.OPERATOR, jurisdiction="331102")
    qingtian = live_server.token(Role.OPERATOR, jurisdiction="331121")
    own_squad = live_server.token(Role.SQUAD, squad="LD-01")
    await peers.publish(camera, device)

    def names(response: httpx.Response) -> list[str]:
        return [s["name"] for s in response.json()]

    assert camera in names(await peers.http.get("/api/v1/streams", headers=auth(liandu)))
    assert camera not in names(await peers.http.get("/api/v1/streams", headers=auth(qingtian)))
    refused = await peers.post_sdp(f"/whep/{camera}", qingtian, "v=0\r\n")
    assert refused.status_code == 403
    viewer = await peers.watch(camera, own_squad)
    await viewer.wait_frames(3)


async def test_bad_requests_get_clear_answers(live_server: LiveServer, peers: Peers) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera)
    operator = live_server.token(Role.OPERATOR)
    http = peers.http

    async def whip(path: str, body: bytes, **headers: str) -> httpx.Response:
        return await http.post(path, content=body, headers=headers)

    sdp = {"Content-Type": "application/sdp"}
    assert (await whip(f"/whip/{camera}", b"v=0\r\n", **sdp)).status_code == 401
    assert (await whip(f"/whip/{camera}", b"x", **sdp, **auth("nonsense"))).status_code == 401
    wrong_type = await whip(f"/whip/{camera}", b"v=0\r\n", **auth(device))
    assert wrong_type.status_code == 415
    assert wrong_type.headers["accept-post"] == "application/sdp"
    not_sdp = await whip(f"/whip/{camera}", b"<html>hello</html>", **sdp, **auth(device))
    assert not_sdp.status_code == 400
    assert "v=0" in not_sdp.json()["detail"]
    no_video = await whip(f"/whip/{camera}", b"v=0\r\ns=-\r\nt=0 0\r\n", **sdp, **auth(device))
    assert no_video.status_code == 400
    assert "video" in no_video.json()["detail"]
    other_stream = await whip("/whip/someone-else", b"v=0\r\n", **sdp, **auth(device))
    assert other_stream.status_code == 403
    not_a_device = await whip(f"/whip/{camera}", b"v=0\r\n", **sdp, **auth(operator))
    assert not_a_device.status_code == 403
    unknown = await http.delete(f"/whip/{camera}/sessions/nosuchsession", headers=auth(device))
    assert unknown.status_code == 404
    trickle = await http.patch(
        f"/whip/{camera}/sessions/nosuchsession",
        content=b"a=candidate:1 1 udp 1 127.0.0.1 9 typ host",
        headers={"Content-Type": "application/trickle-ice-sdpfrag", **auth(device)},
    )
    assert trickle.status_code == 405
    assert (await whip(f"/whep/{camera}", b"v=0\r\n", **sdp, **auth(operator))).status_code == 404
    for response in (not_sdp, no_video, unknown, trickle):
        assert "Traceback" not in response.text


async def test_a_device_token_opens_nothing_but_its_stream_and_telemetry(
    live_server: LiveServer, peers: Peers
) -> None:
    device = live_server.token(Role.DEVICE, device=device_id())
    for path in ("/api/v1/clues", "/api/v1/streams"):
        response = await peers.http.get(path, headers=auth(device))
        assert response.status_code in (401, 403), path
    async with listen(live_server.ws_url, device) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 4401


async def test_the_stream_limit_per_viewer_count_is_enforced(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera)
    operator = live_server.token(Role.OPERATOR)
    await peers.publish(camera, device)
    for _ in range(live_server.settings.video_max_viewers_per_stream):
        await peers.watch(camera, operator)
    pc = peers.pc()
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    refused = await peers.post_sdp(f"/whep/{camera}", operator, pc.localDescription.sdp)
    assert refused.status_code == 503
    assert "limit" in refused.json()["detail"]
