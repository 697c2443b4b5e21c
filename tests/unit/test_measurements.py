"""What devices and trackers report is kept as a `real` column can hold it, or refused
with the field named — never a server error from the database."""

from datetime import UTC, datetime

import pytest

from command_center.errors import InvalidInput
from command_center.positions.model import parse_osmand
from command_center.telemetry.model import Report

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def report(**measurements: float) -> Report:
    return Report(at=NOW, lon=119.9, lat=28.4, submitted_crs="wgs84", **measurements)


def test_measurements_are_kept_to_a_thousandth_and_a_subnormal_speed_is_zero() -> None:
    kept = report(speed=4.07e-266, battery=37.364694, altitude=-12.00049, accuracy=3.0)
    assert (kept.speed, kept.battery, kept.altitude, kept.accuracy) == (0.0, 37.365, -12.0, 3.0)


def test_a_heading_that_rounds_to_360_is_north() -> None:
    assert report(heading=359.9999).heading == 0.0
    assert report(heading=360.0).heading == 0.0


@pytest.mark.parametrize(
    ("field", "value"),
    [("battery", 150.0), ("speed", -1.0), ("speed", 1e300), ("heading", 361.0),
     ("altitude", 1e6), ("accuracy", float("nan"))],
)  # fmt: skip
def test_an_impossible_measurement_is_refused_by_name(field: str, value: float) -> None:
    with pytest.raises(InvalidInput, match=field):
        report(**{field: value})


def test_an_osmand_time_past_the_year_9999_is_refused() -> None:
    with pytest.raises(InvalidInput, match="timestamp"):
        parse_osmand({"id": "p1", "lat": "28.4", "lon": "119.9", "timestamp": "1e17"}, now=NOW)
