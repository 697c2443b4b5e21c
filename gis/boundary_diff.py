"""Compare a replacement set of jurisdiction boundaries with the current one.

Pure: shapely only, no I/O. This is the rule behind an administrator's preview of
a boundary upload (issue 17): which cells are added, removed or reshaped, where
siblings overlap, where they leave a gap in their parent, and which pieces lie
outside their parent. Every finding carries its geometry so a map can draw it.

Areas are compared in squared degrees: a ratio of two areas at the same latitude
is unit-free, which is all a "reshaped" test needs. Pieces smaller than
``tolerance`` (a share of the parent's area) are ignored, so the float noise of
a shared edge redrawn by another tool is not reported as an overlap or a gap.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

import shapely
from shapely.geometry.base import BaseGeometry

DEFAULT_TOLERANCE = 1e-6
"""Share of the parent's area below which an overlap, gap or outside piece is noise."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One jurisdiction as the comparison sees it: geometry in WGS84."""

    code: str
    parent_code: str | None
    geometry: BaseGeometry


@dataclass(frozen=True, slots=True)
class Reshape:
    """A cell in both sets whose area or outline changed."""

    code: str
    old_area: float
    new_area: float
    moved_area: float
    """Area of the symmetric difference: what changed hands, in squared degrees."""


@dataclass(frozen=True, slots=True)
class Finding:
    """An overlap, gap or outside piece; ``codes`` names the cells involved."""

    kind: str
    codes: tuple[str, ...]
    message: str
    geometry: BaseGeometry


@dataclass(frozen=True, slots=True)
class BoundaryDiff:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[Reshape, ...]
    findings: tuple[Finding, ...]


def compare(
    current: Iterable[Cell],
    replacement: Iterable[Cell],
    *,
    parents: Mapping[str, BaseGeometry] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> BoundaryDiff:
    """Compare ``replacement`` with the ``current`` cells it replaces.

    ``current`` must hold exactly the cells the replacement stands for (the
    jurisdictions it names and their children). ``parents`` gives geometries of
    parents that are not in ``replacement`` (cells already stored above it); a
    cell whose parent is in neither is not checked against one.
    """
    old = {cell.code: cell for cell in current}
    new = {cell.code: cell for cell in replacement}
    added = tuple(sorted(new.keys() - old.keys()))
    removed = tuple(sorted(old.keys() - new.keys()))
    changed = tuple(
        reshape
        for code in sorted(old.keys() & new.keys())
        if (reshape := _reshape(old[code], new[code], tolerance)) is not None
    )
    parent_shapes = dict(parents or {})
    parent_shapes.update({code: cell.geometry for code, cell in new.items()})
    return BoundaryDiff(
        added=added,
        removed=removed,
        changed=changed,
        findings=tuple(_findings(new.values(), parent_shapes, tolerance)),
    )


def _reshape(old: Cell, new: Cell, tolerance: float) -> Reshape | None:
    moved = shapely.symmetric_difference(old.geometry, new.geometry).area
    old_area = old.geometry.area
    if moved <= tolerance * max(old_area, new.geometry.area):
        return None
    return Reshape(code=new.code, old_area=old_area, new_area=new.geometry.area, moved_area=moved)


def _findings(
    cells: Iterable[Cell], parents: Mapping[str, BaseGeometry], tolerance: float
) -> Iterable[Finding]:
    families: dict[str, list[Cell]] = {}
    for cell in cells:
        if cell.parent_code is not None and cell.parent_code in parents:
            families.setdefault(cell.parent_code, []).append(cell)
    for parent_code in sorted(families):
        parent = parents[parent_code]
        children = sorted(families[parent_code], key=lambda cell: cell.code)
        noise = tolerance * parent.area
        yield from _outside(parent_code, parent, children, noise)
        yield from _overlaps(children, noise)
        yield from _gap(parent_code, parent, children, noise)


def _outside(
    parent_code: str, parent: BaseGeometry, children: list[Cell], noise: float
) -> Iterable[Finding]:
    for child in children:
        piece = shapely.difference(child.geometry, parent)
        if piece.area > noise:
            yield Finding(
                kind="outside_parent",
                codes=(child.code, parent_code),
                message=f"{child.code} reaches outside its parent {parent_code}",
                geometry=piece,
            )


def _overlaps(children: list[Cell], noise: float) -> Iterable[Finding]:
    for first, second in combinations(children, 2):
        piece = shapely.intersection(first.geometry, second.geometry)
        if piece.area > noise:
            yield Finding(
                kind="overlap",
                codes=(first.code, second.code),
                message=f"{first.code} and {second.code} overlap",
                geometry=piece,
            )


def _gap(
    parent_code: str, parent: BaseGeometry, children: list[Cell], noise: float
) -> Iterable[Finding]:
    covered = shapely.union_all([child.geometry for child in children])
    piece = shapely.difference(parent, covered)
    if piece.area > noise:
        yield Finding(
            kind="gap",
            codes=(parent_code,),
            message=f"the cells of {parent_code} leave part of it uncovered",
            geometry=piece,
        )
