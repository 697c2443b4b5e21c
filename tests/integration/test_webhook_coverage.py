"""Webhooks cover every event type of the record: the deliverer walks the event log, so
a subscription without types gets clue, supervision and video events alike, each signed;
a type filter narrows it. (Telemetry is not in the record, so it is not delivered.)"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text

from command_center.auth.model import Principal, Role
from command_center.clues import service as clues_service
from command_center.clues.model import Action, Channel, Submission
from command_center.db.session import Database
from command_center.notifications import webhooks
from command_center.notifications.model import sign
from command_center.realtime import outbox
from command_center.video.events import stream_event
from feeds.video.model import StreamNotice, StreamOwner
from tests.history import relay_everything
from tests.integration.test_webhooks import Receiver, receiver  # noqa: F401
from tests.support import LIANDU, spread

OPERATOR = Principal(role=Role.OPERATOR, subject="desk-9")


async def test_a_webhook_without_types_gets_every_kind_of_event(
    database: Database,
    receiver: Receiver,  # noqa: F811
) -> None:
    streams = Receiver()
    async with database.transaction() as session:
        everything, secret = await webhooks.add(session=session, url=receiver.url, event_types=[])
        only_video, _ = await webhooks.add(
            session=session, url=streams.url, event_types=["stream.*"]
        )
    lon, lat = spread(LIANDU)
    async with database.transaction() as session:
        result = await clues_service.submit(
            session=session,
            submission=Submission(
                channel=Channel.GRID, matter_code="CG-001", lon=lon, lat=lat, submitted_crs="wgs84"
            ),
            by=OPERATOR,
            zone=ZoneInfo("Asia/Shanghai"),
        )
    async with database.transaction() as session:
        await clues_service.act(
            session=session, clue_id=result.clue_id, action=Action.CANCEL, by=OPERATOR, note="误报"
        )
        owner = StreamOwner("UAV-77", "drone", squad_code=result.squad_code)
        notice = StreamNotice("started", "UAV-77", owner, datetime.now(UTC), session_id="s1")
        await outbox.record(session, [stream_event(notice)])
    await relay_everything(database)
    async with httpx.AsyncClient(timeout=10) as client:
        await webhooks.deliver_round(database, client, now=datetime.now(UTC))
    try:
        types = [body["type"] for body, _, _ in receiver.received]
        assert types == ["clue.received", "clue.dispatched", "clue.cancelled", "stream.started"]
        assert all(signature == sign(secret, raw) for _, signature, raw in receiver.received)
        assert [body["type"] for body, _, _ in streams.received] == ["stream.started"]
        ids = [body["id"] for body, _, _ in receiver.received]
        assert ids == sorted(ids)
    finally:
        streams.server.shutdown()
        streams.server.server_close()
        async with database.transaction() as session:  # later servers must not wait on them
            await session.execute(
                text("UPDATE webhooks SET active = false WHERE id = ANY(:ids)"),
                {"ids": [everything, only_video]},
            )
