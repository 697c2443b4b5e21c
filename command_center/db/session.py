"""The database handle: one async engine and session factory, built when the app starts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc
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
            pool_pre_ping=True,
            # Statement parameters hold what people typed (a resident's phone, a name):
            # never in an error message, so never in a log.
            hide_parameters=True,
            connect_args={"connect_timeout": 5},
        )
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False, info=info or {}))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
