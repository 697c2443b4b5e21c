"""Use cases of the OGC API: who sees which features, and the pages of a collection."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal, Role
from command_center.auth.scope import Scope
from command_center.auth.scope import scope_of as scope_within
from command_center.errors import NotFound
from command_center.ogc import repository
from command_center.ogc.model import BBox, CollectionId, Extent, Feature, Interval

READERS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.GRID_WORKER})


def scope_of(by: Principal) -> Scope:
    """As the clue API: a squad sees its own clues, the jurisdictions it serves and itself;
    operators, supervisors, grid workers and admins their jurisdiction and below (open
    clues), the jurisdictions in it and the squads that serve it or a place in it; a
    device sees nothing."""
    return scope_within(
        by, readers=READERS, refusal=f"the {by.role.value} role may not read these collections"
    )


async def items(
    *,
    session: AsyncSession,
    collection: CollectionId,
    scope: Scope,
    zone: str,
    bbox: BBox | None,
    when: Interval | None,
    limit: int,
    offset: int,
) -> tuple[list[Feature], int]:
    return await repository.items(
        session,
        collection,
        scope=scope,
        zone=zone,
        bbox=bbox,
        when=when,
        limit=limit,
        offset=offset,
    )


async def item(
    *, session: AsyncSession, collection: CollectionId, scope: Scope, zone: str, feature_id: str
) -> Feature:
    """One feature; NotFound also when it is outside the scope (it is not acknowledged)."""
    found = await repository.item(
        session, collection, scope=scope, zone=zone, feature_id=feature_id
    )
    if found is None:
        raise NotFound(f"no feature {feature_id!r} in {collection.value}")
    return found


async def extent(
    *, session: AsyncSession, collection: CollectionId, scope: Scope, zone: str
) -> Extent:
    return await repository.extent(session, collection, scope=scope, zone=zone)


async def tile(
    *,
    session: AsyncSession,
    collection: CollectionId,
    scope: Scope,
    zone: str,
    z: int,
    x: int,
    y: int,
) -> bytes:
    return await repository.tile(session, collection, scope=scope, zone=zone, z=z, x=x, y=y)
