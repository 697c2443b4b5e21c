"""Open311 request forms: validated field by field, positions converted to WGS84 first."""

import pytest

from command_center.errors import InvalidInput
from feeds.open311 import attribute_answers, parse_request_form
from gis.crs import wgs84_to_gcj02

FORM = {"service_code": "CG-001", "lat": "28.4719", "long": "119.8218"}


def test_a_minimal_form_is_a_submission_in_wgs84() -> None:
    submission = parse_request_form({**FORM, "description": " stall on the pavement "})
    assert (submission.lon, submission.lat) == (119.8218, 28.4719)
    assert submission.description == "stall on the pavement"
    assert submission.crs == "wgs84"


def test_gcj02_positions_are_converted_before_anything_else() -> None:
    lon, lat = wgs84_to_gcj02(119.8218, 28.4719)
    submission = parse_request_form({**FORM, "lat": str(lat), "long": str(lon), "crs": "gcj02"})
    assert submission.lon == pytest.approx(119.8218, abs=1e-7)
    assert submission.lat == pytest.approx(28.4719, abs=1e-7)
    assert submission.crs == "gcj02"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"service_code": ""}, "service_code is required"),
        ({"lat": "", "long": ""}, "a location is required: lat and long, or address_string"),
        ({"lat": ""}, "lat and long must be given together"),
        ({"lat": "north"}, "lat is not a number"),
        ({"lat": "nan"}, "lat is not a finite number"),
        ({"lat": "95"}, "lat 95.0 is outside -90..90"),
        ({"long": "190"}, "outside -180..180"),
        ({"crs": "bd09"}, "unknown crs 'bd09'"),
        ({"media_url": "javascript:alert(1)"}, "media_url must be an http or https URL"),
        ({"email": "not-an-address"}, "email is not an e-mail address"),
        ({"phone": "call me maybe"}, "phone may hold only digits"),
        ({"description": "x" * 5000}, "description is longer than 4000"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_request_form({**FORM, **change})


def test_an_address_alone_is_left_for_the_service_to_locate() -> None:
    form = parse_request_form({"service_code": "CG-001", "address_string": "莲都区中山街 1 号"})
    assert (form.lon, form.lat) == (None, None)
    assert form.address == "莲都区中山街 1 号"


def test_attribute_answers_single_and_multi() -> None:
    answers = attribute_answers(
        [
            ("attribute[goods]", "fruit"),
            ("attribute[hours][]", "noon"),
            ("attribute[hours][]", "night"),
            ("service_code", "CG-001"),
        ]
    )
    assert answers == {"goods": ["fruit"], "hours": ["noon", "night"]}


def test_a_malformed_attribute_key_is_named() -> None:
    with pytest.raises(InvalidInput, match="attribute\\[bad key\\]"):
        attribute_answers([("attribute[bad key]", "x")])
