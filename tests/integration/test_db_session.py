"""The pool never hands out a connection the server closed while it sat idle."""

from __future__ import annotations

import asyncio
import os
import resource

from sqlalchemy import text

from command_center.db.session import Database
from command_center.settings import Settings


async def test_a_connection_the_server_ended_is_replaced_not_handed_out(
    database: Database, settings: Settings
) -> None:
    pool = Database.from_settings(settings)  # its own pool: one connection, then idle
    try:
        async with pool.sessions() as session:
            first = await session.scalar(text("SELECT pg_backend_pid()"))
        async with database.sessions() as other:  # the server ends that idle backend
            ended = await other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        assert ended is True
        for _ in range(100):  # until the server's goodbye has reached the pooled socket
            async with database.sessions() as other:
                gone = await other.scalar(
                    text("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = :pid)"),
                    {"pid": first},
                )
            if gone:
                break
            await asyncio.sleep(0.05)
        async with pool.transaction() as session:  # would fail on the ended connection
            again = await session.scalar(text("SELECT pg_backend_pid()"))
        assert again != first
    finally:
        await pool.dispose()


async def test_the_check_works_past_a_thousand_open_files(settings: Settings) -> None:
    """A server holding thousands of websockets gives its database sockets descriptors
    above 1024, where select() cannot look."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1400
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    pool = Database.from_settings(settings)
    try:
        for _ in range(2):  # a new connection, then the same one from the pool
            async with pool.transaction() as session:
                assert await session.scalar(text("SELECT 1")) == 1
                raw = await (await session.connection()).get_raw_connection()
                assert raw.driver_connection.pgconn.socket > 1024  # type: ignore[union-attr]
    finally:
        await pool.dispose()
        for descriptor in filler:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
