"""Hot spots folded into ranked cells, and H3 cells, without I/O."""

import h3
from shapely.geometry import Point, shape

from command_center.hotspots.model import Count, fold, h3_counts, h3_polygon


def test_cells_are_ranked_with_their_matters_hours_and_weekdays() -> None:
    counts = [
        Count("a", "甲", "CG-001", "摊贩", 8, 1, 3, 4),
        Count("a", "甲", "CG-006", "垃圾", 20, 6, 1, 1),
        Count("b", "乙", "CG-001", "摊贩", 9, 2, 4, 4),
        Count("c", "丙", "CG-001", "摊贩", 9, 2, 4, 9),
    ]
    spots = fold(counts)
    assert [(s.cell, s.rank, s.clues) for s in spots] == [("c", 1, 4), ("a", 2, 4), ("b", 3, 4)]
    a = spots[1]
    assert a.top_matters() == [
        {"code": "CG-001", "name": "摊贩", "clues": 3},
        {"code": "CG-006", "name": "垃圾", "clues": 1},
    ]
    assert (a.peak_hour, a.peak_weekday) == (8, 1)
    assert a.by_hour[20] == 1 and a.by_weekday[5] == 1


def test_points_fall_into_the_h3_cell_that_contains_them() -> None:
    points = [
        {
            "lon": 119.8218,
            "lat": 28.4719,
            "matter_code": "CG-001",
            "matter_name": "摊贩",
            "hour": 8,
            "weekday": 1,
            "reports": 2,
        },
        {
            "lon": 119.8219,
            "lat": 28.4719,
            "matter_code": "CG-001",
            "matter_name": "摊贩",
            "hour": 8,
            "weekday": 1,
            "reports": 1,
        },
        {
            "lon": 120.1547,
            "lat": 28.2108,
            "matter_code": "CG-006",
            "matter_name": "垃圾",
            "hour": 9,
            "weekday": 3,
            "reports": 1,
        },
    ]
    spots = fold(h3_counts(points, 9))
    assert [(s.clues, s.reports) for s in spots] == [(2, 3), (1, 1)]
    assert h3.get_resolution(spots[0].cell) == 9
    polygon = shape(h3_polygon(spots[0].cell))
    assert polygon.contains(Point(119.8218, 28.4719))
    assert not polygon.contains(Point(120.1547, 28.2108))
