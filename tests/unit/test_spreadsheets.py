"""OWASP's CSV-injection rule, and every CSV writer of the service following it."""

from __future__ import annotations

import csv
import io

import pytest

from command_center.exports.model import COLUMNS, csv_line
from command_center.spreadsheets import safe_cell
from command_center.stats.schemas import IndicatorRow, indicators_csv


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_is_prefixed(start: str) -> None:
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"


def test_ordinary_text_is_left_alone() -> None:
    for text in ("路边摆摊", "", "1-2 号楼", "'quoted", "a=b"):
        assert safe_cell(text) == text


def test_the_export_line_neutralises_text_but_not_its_own_numbers() -> None:
    row = dict.fromkeys(COLUMNS) | {"description": "=HYPERLINK(1)", "lon": -0.5, "lat": 28.0}
    [cells] = list(csv.reader(io.StringIO(csv_line(row))))
    values = dict(zip(COLUMNS, cells, strict=True))
    assert values["description"] == "'=HYPERLINK(1)"
    assert values["lon"] == "-0.5000000"


def test_the_indicators_csv_neutralises_names() -> None:
    counted = "received dispatched due closed closed_on_time handled reworked extended"
    counts = dict.fromkeys([*counted.split(), "returned", "ratings", "satisfied"], 0)
    rated = "closure on_time rework extension return satisfaction"
    rates = dict.fromkeys(f"{name}_rate" for name in rated.split())
    row = IndicatorRow(
        key="@X", name="=HYPERLINK(1)", rank=None, composite=None, steps={}, **counts, **rates
    )
    text = indicators_csv([row], label="+W48", by="squad")
    [_, cells] = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert cells[:3] == ["'+W48", "'@X", "'=HYPERLINK(1)"]
