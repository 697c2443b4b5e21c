"""The simulation's rules (command_center/simulation/model.py, session.tracker_ids)."""

import random

import pytest

from command_center.simulation.model import Pacing, distance_m, drive, rating, route
from command_center.simulation.session import tracker_ids

SEAT, MARKET = (119.9218, 28.4519), (119.9400, 28.4600)


def test_a_squad_drives_a_street_like_path_at_street_speed() -> None:
    path = route(SEAT, MARKET)
    assert path == [SEAT, (MARKET[0], SEAT[1]), MARKET]  # along one axis, then the other
    points = drive(path, speed_kmh=36, every_s=4)
    steps = [distance_m(a, b) for a, b in zip([SEAT, *points], points, strict=False)]
    assert all(step <= 40.0 + 1e-6 for step in steps)  # 36 km/h for 4 s, never faster
    assert points[-1] == MARKET
    length = distance_m(*path[:2]) + distance_m(*path[1:])
    assert len(points) == pytest.approx(length / 40, abs=2)


def test_delays_scale_with_the_pace_and_bad_settings_are_refused() -> None:
    rng = random.Random(1)
    slow, fast = Pacing(), Pacing(pace=0.02)
    assert 4.0 <= slow.wait(slow.accept_after, rng) <= 15.0
    assert 0.08 <= fast.wait(fast.accept_after, rng) <= 0.3
    with pytest.raises(ValueError, match="positive"):
        Pacing(tips_per_minute=0)
    with pytest.raises(ValueError, match="return_share"):
        Pacing(return_share=1.5)
    stars = [rating(Pacing(low_rating_share=0.0), rng) for _ in range(50)]
    assert set(stars) <= {4, 5}


def test_tracker_ids_are_read_from_what_import_members_prints() -> None:
    printed = (
        "members: 16 members\nnew OsmAnd ids:\nSIM-LD-01 sim-ld01 s3cr3t\nLD01-001 phone-ld01-001 x"
    )
    assert tracker_ids(printed) == {"sim-ld01": "s3cr3t"}  # simulated phones only
