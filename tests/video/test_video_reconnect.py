"""A feed that drops is reported; the device may come back to the same stream."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from sqlalchemy import text

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.conftest import LiveServer, start_server
from tests.support import collect, listen
from tests.video.peers import BLUE, RED, Peers, auth, close_to, mean_colour


def device_id() -> str:
    return f"bc-{secrets.token_hex(4)}"


def seen(stream: str, kind: str, **data: Any) -> Any:
    def match(events: list[dict[str, Any]]) -> bool:
        return any(
            e["type"] == kind
            and e["data"]["stream"] == stream
            and all(e["data"].get(k) == v for k, v in data.items())
            for e in events
        )

    return match


async def test_a_silent_camera_is_dropped_and_its_viewers_resume_when_it_reconnects(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera, squad="LD-01")
    operator = live_server.token(Role.OPERATOR, jurisdiction="331102")
    async with listen(live_server.ws_url, operator) as ws:
        first = await peers.publish(camera, device, colour=RED)
        viewer = await peers.watch(camera, operator)
        frames = await viewer.wait_frames(5)
        assert close_to(mean_colour(frames[-1]), RED)

        await peers.vanish(first.pc)  # the camera lost its network: no goodbye
        await collect(ws, seen(camera, "stream.dropped", reason="no_media"), timeout=5)
        status = await peers.http.get(f"/api/v1/streams/{camera}", headers=auth(operator))
        assert status.json()["state"] == "reconnecting"

        await peers.publish(camera, device, colour=BLUE)  # back, on the same stream
        await collect(ws, seen(camera, "stream.started", reconnect=True), timeout=5)
        frames = await viewer.wait_frames(10)  # the same viewing session, no new WHEP
        assert close_to(mean_colour(frames[-1]), BLUE)
    assert not viewer.ended.is_set()


async def test_a_feed_that_does_not_come_back_ends_after_the_grace(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera, squad="LD-01")
    operator = live_server.token(Role.OPERATOR)
    async with listen(live_server.ws_url, operator) as ws:
        publisher = await peers.publish(camera, device)
        viewer = await peers.watch(camera, operator)
        await viewer.wait_frames(3)
        await peers.vanish(publisher.pc)
        grace = live_server.settings.video_reconnect_grace_seconds
        await collect(ws, seen(camera, "stream.ended", reason="not_reconnected"), timeout=grace + 4)
    await asyncio.wait_for(viewer.ended.wait(), 5)
    gone = await peers.http.get(f"/api/v1/streams/{camera}", headers=auth(operator))
    assert gone.status_code == 404


async def test_a_second_session_of_the_same_device_replaces_the_first(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = device_id()
    device = live_server.token(Role.DEVICE, device=camera)
    operator = live_server.token(Role.OPERATOR)
    async with listen(live_server.ws_url, operator) as ws:
        first = await peers.publish(camera, device, colour=RED)
        viewer = await peers.watch(camera, operator)
        await viewer.wait_frames(3)
        second = await peers.publish(camera, device, colour=BLUE)
        events = await collect(ws, seen(camera, "stream.started", reconnect=True), timeout=5)
        frames = await viewer.wait_frames(10)
        assert close_to(mean_colour(frames[-1]), BLUE)
        assert (await peers.delete(first.location, device)).status_code == 404
        assert (await peers.delete(second.location, device)).status_code == 200
        events += await collect(ws, seen(camera, "stream.ended"), timeout=5)
    mine = [e["type"] for e in events if e["data"].get("stream") == camera]
    assert "stream.dropped" not in mine


async def test_stopping_the_server_ends_its_streams_and_closes_every_connection(
    video_settings: Settings, database: Database
) -> None:
    server = start_server(video_settings)
    camera = device_id()
    device = server.token(Role.DEVICE, device=camera)
    operator = server.token(Role.OPERATOR)
    async with Peers(server.url) as peers:
        publisher = await peers.publish(camera, device)
        viewer = await peers.watch(camera, operator)
        await viewer.wait_frames(3)

        await asyncio.to_thread(server.stop)

        await asyncio.wait_for(viewer.ended.wait(), 10)
        async with asyncio.timeout(10):
            while publisher.pc.connectionState not in ("closed", "failed"):
                await asyncio.sleep(0.1)
    assert not server.thread.is_alive()
    async with database.sessions() as session:
        reasons = (
            await session.execute(
                text(
                    "SELECT data->>'reason' FROM events WHERE type = 'stream.ended' "
                    "AND data->>'stream' = :s UNION ALL SELECT data->>'reason' FROM outbox "
                    "WHERE type = 'stream.ended' AND data->>'stream' = :s"
                ),
                {"s": camera},
            )
        ).scalars()
        assert list(reasons) == ["server_stopping"]
