"""Use cases of jurisdictions: importing boundary files."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.errors import ImportRefused
from command_center.jurisdictions import repository
from gis.boundaries import BoundaryError, parse_feature_collection
from gis.crs import CRS


@dataclass(frozen=True, slots=True)
class ImportSummary:
    inserted: int
    updated: int
    repaired: list[str]

    def __str__(self) -> str:
        text = f"{self.inserted} created, {self.updated} updated"
        if self.repaired:
            text += f"; repaired invalid geometry of: {', '.join(self.repaired)}"
        return text


async def import_geojson(
    *, session: AsyncSession, data: bytes | str, crs: CRS | str = CRS.WGS84
) -> ImportSummary:
    """Import a FeatureCollection of boundaries; ImportRefused (nothing stored) on any problem.

    A code already present is updated. Parents may be in the file or already stored.
    """
    try:
        features = parse_feature_collection(data, crs)
    except BoundaryError as exc:
        raise ImportRefused(str(exc)) from None
    codes = {f.code for f in features}
    parents = {f.parent_code for f in features if f.parent_code and f.parent_code not in codes}
    unknown = parents - await repository.existing_codes(session, parents)
    if unknown:
        raise ImportRefused(
            f"unknown parent_code: {', '.join(sorted(unknown))} (not in the file nor stored)"
        )
    inserted = await repository.upsert(session, features)
    stuck = await repository.rebuild_paths(session)
    if stuck:
        raise ImportRefused(f"parent_code forms a cycle through: {', '.join(stuck)}")
    return ImportSummary(
        inserted=inserted,
        updated=len(features) - inserted,
        repaired=[f.code for f in features if f.repaired],
    )


async def locate_address(*, session: AsyncSession, address: str) -> tuple[str, float, float] | None:
    """(jurisdiction code, lon, lat) for an address that names a jurisdiction, else None.

    The point is inside the named jurisdiction, not at the address: callers must treat
    it as approximate.
    """
    return await repository.locate_by_name(session, address)
