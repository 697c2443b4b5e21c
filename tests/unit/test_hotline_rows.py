"""Hotline ticket files: each row validated on its own, positions converted to WGS84 first."""

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from command_center.clues.model import Channel
from command_center.errors import ImportRefused, InvalidInput
from feeds.hotline import Row, TicketRow, check_source, parse, parse_csv, parse_json
from gis.crs import wgs84_to_gcj02

ZONE = ZoneInfo("Asia/Shanghai")
HEADER = "ticket_id,service_code,lat,long"


def ticket(row: Row) -> TicketRow:
    assert row.ticket is not None, row.error
    return row.ticket


def only_error(text: str) -> str:
    [row] = parse_csv(text, zone=ZONE)
    assert row.ticket is None
    assert row.error is not None
    return f"{row.where}: {row.error}"


def test_a_minimal_row_becomes_a_hotline_submission_keyed_by_its_ticket() -> None:
    [row] = parse_csv(f"{HEADER}\nT-1,CG-001,28.4719,119.8218\n", zone=ZONE)
    submission = ticket(row).submission(source="12345")
    assert submission.channel is Channel.HOTLINE
    assert (submission.source, submission.external_id) == ("12345", "T-1")
    assert (submission.matter_code, submission.lon, submission.lat) == ("CG-001", 119.8218, 28.4719)
    assert submission.submitted_crs == "wgs84"
    assert submission.attributes == {}


def test_optional_fields_are_carried_over() -> None:
    text = (
        "\ufeffticket_id,service_code,lat,long,description,address,phone,name,reported_at\n"
        'T-2,CG-002,28.47,119.82,"摊位占道, 早高峰",丽水市莲都区中山街1号,138****5678,张三,'
        "2026-11-23 08:15:00\n"
    )
    [row] = parse_csv(text, zone=ZONE)
    submission = ticket(row).submission(source="12345")
    assert submission.description == "摊位占道, 早高峰"
    assert submission.address == "丽水市莲都区中山街1号"
    assert (submission.reporter_phone, submission.reporter_name) == ("138****5678", "张三")
    assert submission.attributes == {"reported_at": "2026-11-23T08:15:00+08:00"}


def test_a_reported_at_with_an_offset_keeps_it() -> None:
    [row] = parse_csv(
        f"{HEADER},reported_at\nT,CG-001,28.47,119.82,2026-11-23T00:15:00Z\n", zone=ZONE
    )
    assert ticket(row).reported_at == datetime(2026, 11, 23, 0, 15, tzinfo=UTC)
    assert ticket(row).submission(source="x").attributes == {
        "reported_at": "2026-11-23T00:15:00+00:00"
    }


def test_gcj02_rows_are_converted_and_a_row_crs_overrides_the_default() -> None:
    lon, lat = wgs84_to_gcj02(119.8218, 28.4719)
    text = f"{HEADER},crs\nA,CG-001,{lat},{lon},\nB,CG-001,28.4719,119.8218,wgs84\n"
    a, b = parse_csv(text, crs="gcj02", zone=ZONE)
    assert ticket(a).lon == pytest.approx(119.8218, abs=1e-7)
    assert ticket(a).lat == pytest.approx(28.4719, abs=1e-7)
    assert ticket(a).submission(source="x").submitted_crs == "gcj02"
    assert (ticket(b).lon, ticket(b).lat) == (119.8218, 28.4719)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (",CG-001,28.47,119.82", "line 2: ticket_id is empty"),
        ("T,,28.47,119.82", "line 2: service_code is empty"),
        ("T,CG-001,95,119.82", "line 2: lat 95.0 is outside -90..90"),
        ("T,CG-001,28.47,190", "line 2: lon 190.0 is outside -180..180"),
        ("T,CG-001,north,119.82", "line 2: lat 'north' is not a number"),
        ("T,CG-001,nan,119.82", "line 2: lat is not a finite number"),
        ("T,CG-001,28.47,", "line 2: long is empty"),
        ("T,CG-001,28.47,119.82,extra", "line 2: has 5 values but the header has 4 columns"),
        ("T,CG-001,28.47", "line 2: long is missing"),
        (f"{'T' * 101},CG-001,28.47,119.82", "line 2: ticket_id is longer than 100 characters"),
        ("T\x00,CG-001,28.47,119.82", "line 2: ticket_id holds control characters"),
    ],
)
def test_a_bad_row_is_named_by_its_line(row: str, message: str) -> None:
    assert only_error(f"{HEADER}\n{row}\n").startswith(message)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("description", "x" * 4001, "description is longer than 4000 characters"),
        ("phone", "call me", "phone may hold only digits"),
        ("reported_at", "yesterday", "reported_at 'yesterday' is not an ISO-8601 time"),
        ("crs", "bd09", "unknown crs 'bd09'"),
        ("name", "a\nb", "name holds control characters"),
    ],
)
def test_a_bad_optional_field_is_named(column: str, value: str, message: str) -> None:
    quoted = '"' + value.replace('"', '""') + '"'
    error = only_error(f"{HEADER},{column}\nT,CG-001,28.47,119.82,{quoted}\n")
    assert error.startswith(f"line 2: {message}")


def test_a_phone_number_is_never_echoed_in_the_error() -> None:
    assert "13800001111x" not in only_error(f"{HEADER},phone\nT,CG-001,28.47,119.82,13800001111x\n")


def test_lines_are_counted_from_the_header_across_blank_lines_and_multiline_texts() -> None:
    text = f'{HEADER},description\nA,CG-001,28.47,119.82,"two\nlines"\n\nB,CG-001,,119.82,\n'
    a, b = parse_csv(text, zone=ZONE)
    assert ticket(a).description == "two\nlines"
    assert (b.where, b.error) == ("line 5", "lat is empty")


def test_one_bad_row_leaves_the_others_alone() -> None:
    rows = parse_csv(
        f"{HEADER}\nA,CG-001,28.47,119.82\nB,CG-001,95,119.82\nC,CG-002,28.2,120.1\n", zone=ZONE
    )
    assert [row.ticket is not None for row in rows] == [True, False, True]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ticket_id,service_code,lat\nT,CG-001,28.47\n", "missing columns: long"),
        (f"{HEADER},priority\nT,CG-001,28.47,119.82,high\n", "unknown columns: priority"),
        (f"{HEADER},lat\nT,CG-001,28.47,119.82,28.47\n", "repeated columns: lat"),
        (f"{HEADER}\n", "the file has no tickets"),
        ("", "missing columns: ticket_id"),
    ],
)
def test_a_bad_csv_file_is_refused_as_a_whole(text: str, message: str) -> None:
    with pytest.raises(ImportRefused, match=message):
        parse_csv(text, zone=ZONE)


def test_json_lists_and_ticket_envelopes_are_read_alike() -> None:
    tickets = [
        {"ticket_id": 20261123001, "service_code": "CG-001", "lat": 28.4719, "long": 119.8218},
        {"ticket_id": "B", "service_code": "CG-001", "lat": "95", "long": "119.8"},
        "not a ticket",
        {"ticket_id": "D", "service_code": "CG-001", "long": 119.8},
        {"ticket_id": ["D"], "service_code": "CG-001", "lat": 28.47, "long": 119.8},
    ]
    for text in (
        json.dumps(tickets),
        json.dumps({"exported_at": "2026-11-23", "tickets": tickets}),
    ):
        rows = parse_json(text, zone=ZONE)
        assert ticket(rows[0]).ticket_id == "20261123001"
        assert (ticket(rows[0]).lon, ticket(rows[0]).lat) == (119.8218, 28.4719)
        assert [f"{row.where}: {row.error}" for row in rows[1:]] == [
            "ticket #2: lat 95.0 is outside -90..90",
            "ticket #3: is not an object",
            "ticket #4: lat is missing",
            "ticket #5: ticket_id must be a string or a number",
        ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON: .* at line 1, column 2"),
        ('{"items": []}', "expected a list of tickets"),
        ("[]", "the file has no tickets"),
        ('[{"ticket_id": "A", "urgency": 1, "colour": "red"}]', "unknown fields: colour, urgency"),
    ],
)
def test_a_bad_json_file_is_refused_as_a_whole(text: str, message: str) -> None:
    with pytest.raises(ImportRefused, match=message):
        parse_json(text, zone=ZONE)


def test_the_file_type_comes_from_its_suffix() -> None:
    assert (
        len(parse(f"{HEADER}\nT,CG-001,28.47,119.82\n", suffix=".CSV", crs="wgs84", zone=ZONE)) == 1
    )
    with pytest.raises(ImportRefused, match=r"expected a \.csv or \.json file"):
        parse("", suffix=".xlsx", crs="wgs84", zone=ZONE)


def test_a_source_name_must_be_printable_and_short() -> None:
    assert check_source(" 12345 ") == "12345"
    for bad in ("", "   ", "x" * 101, "a\x00b"):
        with pytest.raises(InvalidInput):
            check_source(bad)
