"""Matter and squad CSV files: every bad line is reported with its number, nothing half read."""

import pytest

from command_center.errors import ImportRefused
from command_center.matters.model import parse_matters_csv
from command_center.squads.model import parse_squads_csv

MATTERS_HEADER = "code,name,domain,department,legal_basis,deadline_hours,penalty_standard\n"
SQUADS_HEADER = "code,name,department,jurisdictions,lon,lat,on_duty\n"


def test_a_matter_catalogue_parses_with_optional_penalty() -> None:
    matters = parse_matters_csv(
        MATTERS_HEADER + "CG-001,占道经营,市容,综合行政执法局,《条例》第十四条,24,\n"
    )
    assert matters[0].code == "CG-001"
    assert matters[0].deadline_hours == 24
    assert matters[0].penalty_standard is None


def test_every_bad_matter_line_is_named() -> None:
    with pytest.raises(ImportRefused) as caught:
        parse_matters_csv(
            MATTERS_HEADER
            + "CG 1,a,b,c,d,24,\n"
            + "CG-2,a,b,c,d,soon,\n"
            + "CG-3,a,b,c,d,-1,\n"
            + "CG-4,a,b,c,d,1,\n"
            + "CG-4,a,b,c,d,1,\n"
        )
    message = caught.value.message
    assert "line 2: code 'CG 1'" in message
    assert "line 3: deadline_hours 'soon' is not a whole number" in message
    assert "line 4: deadline_hours must be positive" in message
    assert "line 6: code CG-4 repeats line 5" in message


def test_a_missing_column_is_named() -> None:
    with pytest.raises(ImportRefused, match="missing columns: deadline_hours"):
        parse_matters_csv("code,name,domain,department,legal_basis\nA,b,c,d,e\n")


def test_squads_parse_jurisdiction_lists_and_duty() -> None:
    [line] = parse_squads_csv(SQUADS_HEADER + "LD-01,一中队,局,331102;331100,119.9,28.4,false\n")
    assert line.squad.jurisdictions == ("331102", "331100")
    assert line.squad.on_duty is False


def test_bad_squad_positions_and_duty_flags_are_named() -> None:
    with pytest.raises(ImportRefused) as caught:
        parse_squads_csv(SQUADS_HEADER + "A,a,d,331102,200,28,true\nB,b,d,331102,119,28,maybe\n")
    assert "line 2: lon 200.0 is outside -180..180" in caught.value.message
    assert "line 3: on_duty must be true or false" in caught.value.message
