"""What a route handler takes from the application, as FastAPI dependencies: a database
session or one transaction, the app's clock and its settings. Routers declare them as
parameters (`session: ReadSession`, `now: Now`) instead of reaching into `app.state`;
the principal comes from auth.dependencies (`CurrentPrincipal`).

A transaction ends — committed, or rolled back on any error — when the handler returns
and before the answer is sent (`scope="function"`), so that nothing is acknowledged
before its commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.db.session import Database
from command_center.settings import Settings


def database_of(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with database_of(request).sessions() as session:
        yield session


async def write_transaction(request: Request) -> AsyncIterator[AsyncSession]:
    async with database_of(request).transaction() as session:
        yield session


def now_of(request: Request) -> datetime:
    """The app's clock (tests and the demo may drive it)."""
    now: datetime = request.app.state.clock()
    return now


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ReadSession = Annotated[AsyncSession, Depends(read_session, scope="function")]
Transaction = Annotated[AsyncSession, Depends(write_transaction, scope="function")]
Now = Annotated[datetime, Depends(now_of)]
AppSettings = Annotated[Settings, Depends(settings_of)]
