"""The database handle: one async engine and session factory, built when the app starts.

A pooled connection the server has closed (a restart, a terminated backend, an idle
time-out) is never handed out: on checkout its socket is polled, without a round trip,
and one that has anything to read — on an idle connection only the server's goodbye or
the end of the stream can be there — is replaced by a fresh one (SQLAlchemy's
pessimistic disconnect handling, through its checkout event). This replaces
`pool_pre_ping`, whose `SELECT 1` cost a round trip and about 0.2 ms of CPU per
transaction, two or three transactions per tip.
"""

from __future__ import annotations

import select
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from command_center.settings import Settings

# Errors that mean "the database cannot be reached or asks us to try again" (connection
# refused or lost, a server restarting, the pool exhausted, a serialization failure):
# the caller's transaction was rolled back; the same request may simply be sent again.
UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)


def unavailable(exc: BaseException) -> bool:
    """Whether a background round failed only because the database went away: one of
    UNAVAILABLE, any driver error SQLAlchemy saw as a disconnect (whatever its class: a
    crash can surface mid-statement or in the rollback after it), or the session's
    refusal to go on over a connection lost inside its transaction."""
    if isinstance(exc, (*UNAVAILABLE, sa_exc.PendingRollbackError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def from_settings(cls, settings: Settings, info: dict[str, Any] | None = None) -> Database:
        """`info` is copied into every session's `session.info` (e.g. the dispatch policy)."""
        engine = create_async_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            # Statement parameters hold what people typed (a resident's phone, a name):
            # never in an error message, so never in a log.
            hide_parameters=True,
            connect_args={"connect_timeout": 5}
            | ({} if settings.database_prepared_statements else {"prepare_threshold": None}),
        )
        event.listen(engine.sync_engine.pool, "checkout", refuse_closed_connection)
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False, info=info or {}))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Raise DisconnectionError (the pool then connects anew) for a connection the server
    closed while it sat in the pool."""
    connection = dbapi_connection.driver_connection  # psycopg's AsyncConnection
    if connection.closed or connection.broken:
        raise DisconnectionError("the connection was closed")
    # poll, not select: a server holding thousands of websockets has database sockets
    # above descriptor 1024, which select() cannot watch.
    poller = select.poll()
    poller.register(connection.pgconn.socket, select.POLLIN)
    if poller.poll(0):
        raise DisconnectionError("the server closed the connection while it was idle")
