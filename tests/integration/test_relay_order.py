"""The relay tells its counters of a batch before it publishes it, so that a client that
sees an event and then reads `/metrics` finds the event counted. (No live server in this
module: its relay would move the row first.)"""

from __future__ import annotations

from command_center.db.session import Database
from command_center.realtime import outbox
from command_center.realtime.events import Event, PendingEvent
from command_center.realtime.relay import Relay
from command_center.settings import Settings


async def test_a_batch_is_counted_before_it_is_published(
    database: Database, settings: Settings
) -> None:
    steps: list[tuple[str, list[str]]] = []

    async def publish(events: list[Event]) -> None:
        steps.append(("published", [e.type for e in events]))

    def counted(events: list[Event]) -> None:
        steps.append(("counted", [e.type for e in events]))

    async with database.transaction() as session:
        await outbox.record(session, [PendingEvent(type="test.relay_order", data={})])
    relay = Relay(
        database=database,
        conninfo=settings.psycopg_conninfo,
        publish=publish,
        poll_seconds=60,
        on_moved=counted,
    )
    assert await relay.drain() >= 1
    kinds = [kind for kind, _ in steps]
    assert kinds[:2] == ["counted", "published"], steps
    assert "test.relay_order" in steps[0][1]
