"""Comparing a redrawn grid with the current one: what the preview shows an administrator."""

from shapely.geometry import box

from gis.boundary_diff import Cell, compare

STREET = box(0.0, 0.0, 2.0, 1.0)


def cell(code: str, minx: float, maxx: float, parent: str | None = "S1") -> Cell:
    return Cell(code=code, parent_code=parent, geometry=box(minx, 0.0, maxx, 1.0))


def test_a_clean_redraw_reports_the_reshaped_cells_and_nothing_wrong() -> None:
    current = [cell("G1", 0.0, 1.0), cell("G2", 1.0, 2.0)]
    redrawn = [cell("G1", 0.0, 1.25), cell("G2", 1.25, 2.0)]

    diff = compare(current, redrawn, parents={"S1": STREET})

    assert diff.added == () and diff.removed == ()
    assert [change.code for change in diff.changed] == ["G1", "G2"]
    g1 = diff.changed[0]
    assert g1.old_area == 1.0 and g1.new_area == 1.25 and g1.moved_area == 0.25
    assert diff.findings == ()


def test_added_and_removed_cells_are_named() -> None:
    diff = compare(
        [cell("G1", 0.0, 1.0), cell("G2", 1.0, 2.0)],
        [cell("G1", 0.0, 1.0), cell("G3", 1.0, 2.0)],
        parents={"S1": STREET},
    )

    assert diff.added == ("G3",) and diff.removed == ("G2",)
    assert diff.changed == ()


def test_an_overlap_and_a_gap_between_siblings_are_found_with_their_shapes() -> None:
    redrawn = [cell("G1", 0.0, 0.8), cell("G2", 0.6, 1.5)]

    diff = compare([], redrawn, parents={"S1": STREET})

    kinds = {finding.kind: finding for finding in diff.findings}
    assert set(kinds) == {"overlap", "gap"}
    assert kinds["overlap"].codes == ("G1", "G2")
    assert kinds["overlap"].geometry.equals(box(0.6, 0.0, 0.8, 1.0))
    assert kinds["gap"].geometry.equals(box(1.5, 0.0, 2.0, 1.0))


def test_a_piece_outside_the_parent_is_found_and_a_parent_in_the_file_counts() -> None:
    street = Cell(code="S1", parent_code=None, geometry=STREET)
    redrawn = [street, cell("G1", 0.0, 1.0), cell("G2", 1.0, 2.5)]

    diff = compare([], redrawn)

    (outside,) = diff.findings
    assert outside.kind == "outside_parent" and outside.codes == ("G2", "S1")
    assert outside.geometry.equals(box(2.0, 0.0, 2.5, 1.0))


def test_float_noise_on_a_shared_edge_is_not_an_overlap() -> None:
    redrawn = [cell("G1", 0.0, 1.0 + 1e-9), cell("G2", 1.0, 2.0)]

    assert compare([], redrawn, parents={"S1": STREET}).findings == ()
