"""The rule that keeps impossible positions out of dispatch (issue 15, finding 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from command_center.positions.model import new_tracker_id, tracker_digest
from command_center.telemetry.plausibility import Fix, Plausibility, Suspect, distance_m, judge

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
RULE = Plausibility.of(area_margin_km=20, max_speed_kmh=180)
BASE = Fix(T0, 119.918, 28.470)


def later(seconds: float, lon: float, lat: float) -> Fix:
    return Fix(T0 + timedelta(seconds=seconds), lon, lat)


def test_the_distance_of_a_known_pair_of_places() -> None:
    paris = Fix(T0, 2.35, 48.85)
    assert distance_m(BASE, paris) == pytest.approx(9_425_000, rel=0.005)  # the probe's figure


def test_a_point_outside_the_area_is_suspect_whatever_its_speed() -> None:
    assert judge([later(60, 2.35, 48.85)], inside=[False], believed=None, rule=RULE) == [
        Suspect.OUTSIDE_AREA
    ]


def test_a_jump_faster_than_a_car_is_suspect_and_later_points_are_judged_from_the_last_believed():
    far = (120.2845, 28.1425)  # ~50 km away
    points = [later(60, *far), later(120, 119.919, 28.470), later(7200, *far)]
    verdicts = judge(points, inside=[True] * 3, believed=BASE, rule=RULE)
    assert verdicts == [Suspect.TOO_FAST, None, None]


def test_gps_noise_within_the_slack_and_a_first_fix_are_believed() -> None:
    jitter = later(1, 119.9215, 28.470)  # ~290 m in one second
    assert judge([jitter], inside=[True], believed=BASE, rule=RULE) == [None]
    assert judge([later(1, 120.5, 28.0)], inside=[True], believed=None, rule=RULE) == [None]


def test_driving_at_the_limit_is_believed_and_just_above_it_is_not() -> None:
    km_east = 1000 / distance_m(BASE, Fix(T0, BASE.lon + 1, BASE.lat))  # degrees per km
    at_limit = later(600, BASE.lon + 30.4 * km_east, BASE.lat)  # 30 km + slack in 10 min
    beyond = later(600, BASE.lon + 31 * km_east, BASE.lat)
    assert judge([at_limit], inside=[True], believed=BASE, rule=RULE) == [None]
    assert judge([beyond], inside=[True], believed=BASE, rule=RULE) == [Suspect.TOO_FAST]


def test_one_inside_flag_per_point() -> None:
    with pytest.raises(ValueError, match="one `inside` flag per point"):
        judge([BASE], inside=[], believed=None, rule=RULE)


def test_tracker_ids_are_long_random_and_stored_only_as_a_digest() -> None:
    ids = {new_tracker_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(i) >= 32 for i in ids)
    one = ids.pop()
    assert tracker_digest(one) == tracker_digest(one) and one not in tracker_digest(one)
    assert len(tracker_digest(one)) == 64
