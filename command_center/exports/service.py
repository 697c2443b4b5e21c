"""Use cases of exports: the caller's clues, filtered, as CSV or GeoJSON text chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

from command_center.auth.model import Principal, Role
from command_center.auth.scope import Scope
from command_center.auth.scope import scope_of as scope_within
from command_center.db.session import Database
from command_center.exports import model, repository

EXPORTERS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})


def scope_of(by: Principal) -> Scope:
    """Operators, supervisors and admins export, and squads (what they see: auth.scope)."""
    return scope_within(
        by, readers=EXPORTERS, refusal="exports are for operators, supervisors, admins and squads"
    )


async def as_csv(
    *, database: Database, filters: model.Filters, scope: Scope, zone: ZoneInfo
) -> AsyncIterator[str]:
    async with database.sessions() as session:
        rows = repository.clues(session, filters, scope, zone)
        first = await anext(rows, None)  # the query runs (or fails) before the header
        yield model.csv_header()
        if first is not None:
            yield model.csv_line(first)
        async for row in rows:
            yield model.csv_line(row)


async def as_geojson(
    *, database: Database, filters: model.Filters, scope: Scope, zone: ZoneInfo
) -> AsyncIterator[str]:
    async with database.sessions() as session:
        rows = repository.clues(session, filters, scope, zone)
        first = await anext(rows, None)  # the query runs (or fails) before the opening
        yield '{"type":"FeatureCollection","features":['
        if first is not None:
            yield model.feature(first)
        async for row in rows:
            yield "," + model.feature(row)
    yield "]}"


async def started(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    """`chunks` with its first chunk already made: an export whose query fails does so
    here, before the response starts, and is answered as an error (400, 503) instead of
    a body cut off half-way."""
    first = await anext(chunks)

    async def resumed() -> AsyncIterator[str]:
        yield first
        async for chunk in chunks:
            yield chunk

    return resumed()
