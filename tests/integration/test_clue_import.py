"""Importing hotline tickets as clues: idempotent by ticket id, bad rows refused one by one."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from command_center.clues import imports, service
from command_center.clues.imports import ImportSummary
from command_center.clues.model import ClueRecord, State
from command_center.db.session import Database
from command_center.settings import Settings
from feeds import hotline
from gis.crs import wgs84_to_gcj02

ROOT = Path(__file__).resolve().parents[2]
HEADER = "ticket_id,service_code,lat,long,description,address"
# Matters and corners of the districts that other test modules leave alone, so that no
# ticket here is merged into a clue of theirs (the demo links duplicates within 50 m).
LITTER = "CG-007"
DEBRIS = "CG-008"
LIANDU_CORNER = (119.8600, 28.4400)
QINGTIAN_CORNER = (120.1400, 28.2000)

_spots = itertools.count()


def spot(corner: tuple[float, float]) -> tuple[float, float]:
    """A point near `corner`, ~200 m from every other spot of this module."""
    n = next(_spots)
    return round(corner[0] + (n % 20) * 0.002, 6), round(corner[1] + (n // 20) * 0.002, 6)


def new_source() -> str:
    return f"test-hotline-{uuid.uuid4().hex[:12]}"


def csv_line(ticket_id: str, matter: str, at: tuple[float, float], *rest: str) -> str:
    lon, lat = at
    return ",".join([ticket_id, matter, str(lat), str(lon), *rest])


async def run_import(
    database: Database,
    settings: Settings,
    content: str,
    *,
    source: str,
    suffix: str = ".csv",
    crs: str = "wgs84",
) -> ImportSummary:
    rows = hotline.parse(content, suffix=suffix, crs=crs, zone=settings.zone)
    return await imports.import_tickets(
        database=database,
        rows=rows,
        source=source,
        zone=settings.zone,
        code_prefix=settings.public_code_prefix,
    )


async def clue_of(database: Database, source: str, ticket_id: str) -> ClueRecord:
    async with database.transaction() as session:
        code = await service.find_by_external_id(
            session=session, source=source, external_id=ticket_id
        )
        assert code is not None, f"ticket {ticket_id} of {source} was not stored"
        return await service.get_public(session=session, service_request_id=code)


async def stored_count(database: Database, source: str) -> int:
    async with database.transaction() as session:
        result = await session.execute(
            text("SELECT count(*) FROM clues WHERE source = :s"), {"s": source}
        )
        return int(result.scalar_one())


async def test_a_csv_file_becomes_dispatched_clues_in_the_right_districts(
    database: Database, settings: Settings
) -> None:
    source = new_source()
    content = "\n".join(
        [
            HEADER,
            csv_line("T-1", LITTER, spot(LIANDU_CORNER), "垃圾堆放", "中山街1号"),
            csv_line("T-2", DEBRIS, spot(QINGTIAN_CORNER), "渣土撒漏", ""),
        ]
    )
    calls: list[int] = []
    rows = hotline.parse(content, suffix=".csv", crs="wgs84", zone=settings.zone)
    summary = await imports.import_tickets(
        database=database,
        rows=rows,
        source=source,
        zone=settings.zone,
        progress=calls.append,
    )

    assert str(summary) == (
        "2 created (2 dispatched, 0 queued), 0 merged as duplicates, 0 already imported, 0 refused"
    )
    assert calls == [1, 1]
    first, second = await clue_of(database, source, "T-1"), await clue_of(database, source, "T-2")
    assert (first.channel, first.matter_code, first.state) == ("hotline", LITTER, State.DISPATCHED)
    assert (first.jurisdiction_name, first.department) == ("莲都区", "综合行政执法局")
    assert (first.description, first.address) == ("垃圾堆放", "中山街1号")
    assert first.squad_code in {"LD-01", "LD-02"}
    assert (second.jurisdiction_name, second.squad_code, second.address) == (
        "青田县",
        "QT-01",
        None,
    )


async def test_importing_the_same_file_again_creates_nothing(
    database: Database, settings: Settings
) -> None:
    source = new_source()
    content = "\n".join(
        [HEADER, *(csv_line(f"R-{n}", LITTER, spot(LIANDU_CORNER)) for n in range(3))]
    )
    first = await run_import(database, settings, content, source=source)
    codes = [(await clue_of(database, source, f"R-{n}")).service_request_id for n in range(3)]

    again = await run_import(database, settings, content, source=source)

    assert (first.created, first.already_imported) == (3, 0)
    assert (again.created, again.merged, again.already_imported, again.refused) == (0, 0, 3, [])
    assert await stored_count(database, source) == 3
    assert [(await clue_of(database, source, f"R-{n}")).service_request_id for n in range(3)] == (
        codes
    )


async def test_the_same_ticket_id_from_another_source_is_another_ticket(
    database: Database, settings: Settings
) -> None:
    content = f"{HEADER}\n{csv_line('SAME-1', LITTER, spot(LIANDU_CORNER))}\n"
    a = await run_import(database, settings, content, source=new_source())
    content = f"{HEADER}\n{csv_line('SAME-1', LITTER, spot(LIANDU_CORNER))}\n"
    b = await run_import(database, settings, content, source=new_source())
    assert (a.created, b.created) == (1, 1)


async def test_bad_rows_are_refused_with_their_line_and_the_good_ones_stored(
    database: Database, settings: Settings
) -> None:
    source = new_source()
    content = "\n".join(
        [
            HEADER,
            csv_line("G-1", LITTER, spot(LIANDU_CORNER)),
            csv_line("B-1", "CG-999", spot(LIANDU_CORNER)),
            "B-2,CG-007,95,119.86,,",
            csv_line("", LITTER, spot(LIANDU_CORNER)),
            csv_line("B-4", LITTER, (116.3975, 39.9087)),  # Beijing: outside the city
            csv_line("G-2", DEBRIS, spot(QINGTIAN_CORNER)),
        ]
    )
    summary = await run_import(database, settings, content, source=source)

    assert (summary.created, summary.merged, summary.already_imported) == (2, 0, 0)
    assert summary.refused == [
        "line 3: unknown service_code 'CG-999'",
        "line 4: lat 95.0 is outside -90..90",
        "line 5: ticket_id is empty",
        "line 6: the location lat 39.908700, long 116.397500 (WGS84) is outside every "
        "jurisdiction we serve",
    ]
    assert await stored_count(database, source) == 2
    assert (await clue_of(database, source, "G-2")).jurisdiction_name == "青田县"


async def test_two_tickets_at_the_same_spot_become_one_clue_and_a_duplicate(
    database: Database, settings: Settings
) -> None:
    source = new_source()
    lon, lat = spot(LIANDU_CORNER)
    content = "\n".join(
        [
            HEADER,
            csv_line("D-1", LITTER, (lon, lat), "垃圾桶满溢"),
            csv_line("D-2", LITTER, (lon + 0.0001, lat), "同一处垃圾"),  # ~10 m away
        ]
    )
    summary = await run_import(database, settings, content, source=source)

    assert (summary.dispatched, summary.merged) == (1, 1)
    assert "1 merged as duplicates" in str(summary)
    original, repeat = (
        await clue_of(database, source, "D-1"),
        await clue_of(database, source, "D-2"),
    )
    assert repeat.state is State.DUPLICATE
    assert repeat.duplicate_of == original.id
    assert original.report_count == 2


async def test_a_json_file_is_imported_and_refusals_name_the_ticket(
    database: Database, settings: Settings
) -> None:
    source = new_source()
    lon, lat = spot(LIANDU_CORNER)
    tickets = [
        {
            "ticket_id": 880001,
            "service_code": LITTER,
            "lat": lat,
            "long": lon,
            "description": "夜间垃圾",
            "phone": "138****5678",
            "reported_at": "2026-11-23T21:30:00+08:00",
        },
        {"ticket_id": "880002", "service_code": LITTER, "lat": lat},
    ]
    summary = await run_import(
        database, settings, json.dumps({"tickets": tickets}), source=source, suffix=".json"
    )

    assert (summary.created, summary.refused) == (1, ["ticket #2: long is missing"])
    clue = await clue_of(database, source, "880001")
    assert (clue.description, clue.channel) == ("夜间垃圾", "hotline")
    async with database.transaction() as session:
        stored = await session.execute(
            text("SELECT attributes, reporter_phone FROM clues WHERE id = :id"), {"id": clue.id}
        )
        attributes, phone = stored.one()
    assert attributes == {"reported_at": "2026-11-23T21:30:00+08:00"}
    assert phone == "138****5678"


async def test_gcj02_rows_are_stored_in_wgs84(database: Database, settings: Settings) -> None:
    source = new_source()
    wgs84 = spot(LIANDU_CORNER)
    mars = wgs84_to_gcj02(*wgs84)
    other = spot(LIANDU_CORNER)
    content = "\n".join(
        [
            f"{HEADER},crs",
            csv_line("M-1", LITTER, mars, "", "", ""),  # the file's --crs: gcj02
            csv_line("M-2", LITTER, other, "", "", "wgs84"),  # the row says otherwise
        ]
    )
    summary = await run_import(database, settings, content, source=source, crs="gcj02")

    assert summary.created == 2
    converted, as_given = (
        await clue_of(database, source, "M-1"),
        await clue_of(database, source, "M-2"),
    )
    assert converted.lon == pytest.approx(wgs84[0], abs=1e-6)
    assert converted.lat == pytest.approx(wgs84[1], abs=1e-6)
    assert (as_given.lon, as_given.lat) == pytest.approx(other, abs=1e-9)


async def test_two_imports_of_one_file_at_once_store_each_ticket_once(
    database: Database, settings: Settings
) -> None:
    source = new_source()
    content = "\n".join(
        [HEADER, *(csv_line(f"C-{n}", DEBRIS, spot(QINGTIAN_CORNER)) for n in range(6))]
    )
    a, b = await asyncio.gather(
        run_import(database, settings, content, source=source),
        run_import(database, settings, content, source=source),
    )
    assert a.created + b.created == 6
    assert a.already_imported + b.already_imported == 6
    assert a.refused == b.refused == []
    assert await stored_count(database, source) == 6


# --- the command line -----------------------------------------------------------------


def command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.signing_key(),
    }
    return subprocess.run(
        [sys.executable, "-m", "command_center", "import", "clues", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_the_command_prints_a_summary_and_fails_when_a_row_was_refused(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    source = new_source()
    tickets = tmp_path / "tickets.csv"
    tickets.write_text(
        "\ufeff"
        + "\n".join(
            [
                HEADER,
                csv_line("K-1", LITTER, spot(LIANDU_CORNER), "a", ""),
                csv_line("K-2", "CG-999", spot(LIANDU_CORNER), "b", ""),
                csv_line("K-3", DEBRIS, spot(QINGTIAN_CORNER), "c", ""),
            ]
        ),
        "utf-8",
    )

    first = command(settings, str(tickets), "--source", source)
    again = command(settings, str(tickets), "--source", source)

    assert first.returncode == 1, first.stderr
    assert first.stdout.splitlines() == [
        "clues: 2 created (2 dispatched, 0 queued), 0 merged as duplicates, "
        "0 already imported, 1 refused",
        "  refused line 3: unknown service_code 'CG-999'",
    ]
    assert first.stderr == ""  # no progress bar when stderr is not a terminal
    assert again.returncode == 1
    assert again.stdout.startswith("clues: 0 created (0 dispatched, 0 queued), 0 merged")
    assert "2 already imported, 1 refused" in again.stdout


def test_the_command_succeeds_when_every_ticket_was_stored(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    source = new_source()
    tickets = tmp_path / "tickets.json"
    lon, lat = spot(LIANDU_CORNER)
    tickets.write_text(
        json.dumps([{"ticket_id": "J-1", "service_code": LITTER, "lat": lat, "long": lon}]),
        "utf-8",
    )
    result = command(settings, str(tickets), "--source", source)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("clues: 1 created (1 dispatched, 0 queued)")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tickets.xlsx", "", "tickets.xlsx: expected a .csv or .json file"),
        (
            "tickets.csv",
            "ticket_id,service_code,lat,long,urgency\nX-1,CG-007,28.44,119.86,high\n",
            "unknown columns: urgency",
        ),
        ("tickets.json", "{", "not JSON"),
    ],
)
async def test_a_bad_file_is_refused_before_anything_is_stored(
    database: Database,
    settings: Settings,
    tmp_path: Path,
    name: str,
    content: str,
    message: str,
) -> None:
    source = new_source()
    path = tmp_path / name
    path.write_text(content, "utf-8")
    result = await asyncio.to_thread(command, settings, str(path), "--source", source)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert await stored_count(database, source) == 0
