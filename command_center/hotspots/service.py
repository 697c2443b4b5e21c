"""Use cases of hot spots: the ranked cells of a period and their shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.scope import Scope
from command_center.hotspots import repository
from command_center.hotspots.model import Cells, Spot, fold, h3_counts, h3_polygon
from command_center.stats.periods import Period


@dataclass(frozen=True, slots=True)
class HotSpots:
    cells: Cells  # grid or h3, as chosen
    resolution: int | None
    spots: list[Spot]

    @property
    def total(self) -> int:
        return sum(s.clues for s in self.spots)


async def hotspots(
    *,
    session: AsyncSession,
    period: Period,
    now: datetime,
    scope: Scope,
    cells: Cells,
    resolution: int,
    matters: list[str],
    hour: int | None,
    weekday: int | None,
) -> HotSpots:
    """Cells ranked by the clues received in them. `cells=auto` uses the grid cells
    (单元网格) when the scope has any loaded, else H3 cells of `resolution`."""
    if cells is Cells.AUTO:
        cells = Cells.GRID if await repository.has_grid(session, scope) else Cells.H3
    values = repository.params(
        start=period.start,
        cut=period.cutoff(now),
        zone=period.zone.key,
        matters=matters,
        hour=hour,
        weekday=weekday,
    )
    if cells is Cells.GRID:
        return HotSpots(cells, None, fold(await repository.grid_counts(session, scope, values)))
    counts = h3_counts(await repository.points(session, scope, values), resolution)
    return HotSpots(cells, resolution, fold(counts))


async def shapes(*, session: AsyncSession, found: HotSpots, limit: int) -> dict[str, Any]:
    """The geometry of each of the first `limit` cells."""
    top = [s.cell for s in found.spots[:limit]]
    if found.cells is Cells.GRID:
        return await repository.grid_shapes(session, top)
    return {cell: h3_polygon(cell) for cell in top}
