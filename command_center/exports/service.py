"""Use cases of exports: the caller's clues, filtered, as CSV or GeoJSON text chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

from command_center.auth.model import Principal, Role
from command_center.db.session import Database
from command_center.errors import Forbidden
from command_center.exports import model, repository
from command_center.stats.model import Scope

EXPORTERS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})


def scope_of(by: Principal) -> Scope:
    """Operators, supervisors and admins export the clues of their jurisdiction and below;
    a squad exports the clues it has now."""
    if by.role is Role.SQUAD and by.squad:
        return Scope(squad=by.squad)
    if by.role in EXPORTERS:
        return Scope(jurisdiction=by.jurisdiction)
    raise Forbidden("exports are for operators, supervisors, admins and squads")


async def as_csv(
    *, database: Database, filters: model.Filters, scope: Scope, zone: ZoneInfo
) -> AsyncIterator[str]:
    yield model.csv_header()
    async with database.sessions() as session:
        async for row in repository.clues(session, filters, scope, zone):
            yield model.csv_line(row)


async def as_geojson(
    *, database: Database, filters: model.Filters, scope: Scope, zone: ZoneInfo
) -> AsyncIterator[str]:
    yield '{"type":"FeatureCollection","features":['
    first = True
    async with database.sessions() as session:
        async for row in repository.clues(session, filters, scope, zone):
            yield ("" if first else ",") + model.feature(row)
            first = False
    yield "]}"
