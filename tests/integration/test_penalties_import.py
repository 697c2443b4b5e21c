"""`command-center import penalties` against the real database, and the discretion
standard in force on a violation day as a case will ask for it."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from command_center.cases import law, service
from command_center.cases.law import Kind, LawRefuses, Penalty
from command_center.db.session import Database
from command_center.settings import Settings
from tests.integration.test_cli import run

HEADER = (
    "matter_code,basis,circumstance,fine_min,fine_max,kinds,review_required,collective,"
    "first_offence_exempt,effective_from\n"
)
BASIS = "《城市市容和环境卫生管理条例》第三十六条第（二）项"
GOOD = f"CG-001,{BASIS},测试好,50,200,fine,false,false,false,2024-01-01\n"


def imported(settings: Settings, tmp_path: Path, *rows: str) -> subprocess.CompletedProcess[str]:
    """`import penalties` of a CSV file of these rows under the header."""
    file = tmp_path / "penalties.csv"
    file.write_text(HEADER + "".join(rows), "utf-8")
    return run(settings, "import", "penalties", str(file))


@pytest.fixture
async def tidy(database: Database) -> AsyncIterator[Database]:
    """Standards of the circumstances these tests invent (测试…) are removed afterwards."""
    yield database
    async with database.transaction() as session:
        await session.execute(
            text("DELETE FROM discretion_standards WHERE circumstance LIKE '测试%'")
        )


async def versions(db: Database, circumstance: str) -> list[tuple[date, Decimal | None]]:
    async with db.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT effective_from, fine_max FROM discretion_standards "
                "WHERE circumstance = :c ORDER BY effective_from"
            ),
            {"c": circumstance},
        )
        return [(row.effective_from, row.fine_max) for row in rows]


def test_the_demo_file_imports_and_a_second_run_changes_nothing(
    database: Database, settings: Settings
) -> None:
    first = run(settings, "import", "penalties", "demo/lishui/penalties.csv")
    assert first.returncode == 0, first.stderr
    second = run(settings, "import", "penalties", "demo/lishui/penalties.csv")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "penalties: 0 added, 0 updated, 16 unchanged (7 matters)"


async def test_an_edited_row_updates_its_version_and_the_day_picks_the_version(
    tidy: Database, settings: Settings, tmp_path: Path
) -> None:
    old = f"CG-001,{BASIS},测试一般,50,200,warning;fine,false,false,false,2024-01-01\n"
    new = f"CG-001,{BASIS},测试一般,100,300,罚款、警告,是,否,否,2026-07-01\n"
    added = imported(settings, tmp_path, old, new)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "penalties: 2 added, 0 updated, 0 unchanged (1 matter)"

    edited = imported(settings, tmp_path, old, new.replace(",300,", ",400,"))
    assert edited.stdout.strip() == "penalties: 0 added, 1 updated, 1 unchanged (1 matter)"
    assert await versions(tidy, "测试一般") == [
        (date(2024, 1, 1), Decimal(200)),
        (date(2026, 7, 1), Decimal(400)),
    ]

    async with tidy.sessions() as session:
        before = await service.standard_in_force(
            session=session, matter_code="CG-001", circumstance="测试一般", day=date(2026, 6, 30)
        )
        after = await service.standard_in_force(
            session=session, matter_code="CG-001", circumstance="测试一般", day=date(2026, 7, 1)
        )
        with pytest.raises(LawRefuses, match="in force on 2023-12-31"):
            await service.standard_in_force(
                session=session,
                matter_code="CG-001",
                circumstance="测试一般",
                day=date(2023, 12, 31),
            )
    assert (before.fine_max, before.review_required) == (Decimal(200), False)
    assert (after.fine_max, after.review_required) == (Decimal(400), True)
    assert after.kinds == {Kind.WARNING, Kind.FINE}
    assert after.basis == BASIS
    fine = Penalty(Kind.FINE, Decimal(300))
    # 300 yuan: outside the old version's range (a reason is needed), inside the new one.
    with pytest.raises(LawRefuses, match="written reason"):
        law.check_proposal(before, fine, None)
    assert law.check_proposal(after, fine, None) is False
    with pytest.raises(LawRefuses, match=r"Art\. 34"):
        law.check_proposal(after, Penalty(Kind.CONFISCATION, Decimal(300)), None)


async def test_bad_rows_are_named_by_line_and_column_and_nothing_is_stored(
    tidy: Database, settings: Settings, tmp_path: Path
) -> None:
    result = imported(
        settings,
        tmp_path,
        GOOD,
        f"CG-001,{BASIS},测试坏,500,200,fine,false,false,false,2024-01-01\n",
        f"CG-001,{BASIS},测试坏,,,lashes,false,false,false,2024-01-02\n",
        f"CG-001,{BASIS},测试坏,,,warning,maybe,false,false,2024-01-03\n",
        f"CG-001,{BASIS},测试坏,,,warning,false,false,false,2024-02-30\n",
        f"CG-001,{BASIS},测试坏,abc,,fine,false,false,false,2024-01-04\n",
        "CG-001,第三十六条,测试坏,,,warning,false,false,false,2024-01-05\n",
        GOOD,
    )
    assert result.returncode == 1
    for expected in (
        "line 3: fine_min 500 is more than fine_max 200",
        "line 4: kinds: unknown kind 'lashes'",
        "line 5: review_required must be true or false, not 'maybe'",
        "line 6: effective_from '2024-02-30' is not a day",
        "line 7: fine_min 'abc' is not an amount in yuan",
        "line 8: basis '第三十六条' must be 《law》 then the article",
        "line 9: code CG-001 / 测试好 / 2024-01-01 repeats line 2",
    ):
        assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert await versions(tidy, "测试好") == []


async def test_an_unknown_matter_code_stores_nothing(
    tidy: Database, settings: Settings, tmp_path: Path
) -> None:
    result = imported(settings, tmp_path, GOOD, GOOD.replace("CG-001", "NOPE-9"))
    assert result.returncode == 1
    assert "line 3: matter_code NOPE-9 is not in the matter catalogue" in result.stderr
    assert await versions(tidy, "测试好") == []


async def test_a_matter_given_two_summary_limits_stores_nothing(
    tidy: Database, settings: Settings, tmp_path: Path
) -> None:
    file = tmp_path / "penalties.csv"
    file.write_text(
        HEADER.strip() + ",summary_limit\n" + GOOD.strip() + ",200\n"
        + GOOD.replace("测试好", "测试也好").strip() + ",300\n",
        "utf-8",
    )  # fmt: skip
    result = run(settings, "import", "penalties", str(file))
    assert result.returncode == 1
    assert "line 3: summary_limit 300 differs from line 2 of the same matter" in result.stderr
    assert await versions(tidy, "测试好") == []


async def test_an_xlsx_sheet_with_date_and_number_cells_imports(
    tidy: Database, settings: Settings, tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([*HEADER.strip().split(","), "description"])
    sheet.append(
        ["CG-008", "《中华人民共和国大气污染防治法》第一百一十五条", "测试较重", 40000.0, 70000,
         "fine", True, False, False, datetime(2025, 3, 1), "造成明显扬尘污染"]
    )  # fmt: skip
    file = tmp_path / "penalties.xlsx"
    book.save(file)
    result = run(settings, "import", "penalties", str(file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "penalties: 1 added, 0 updated, 0 unchanged (1 matter)"
    async with tidy.sessions() as session:
        standard = await service.standard_in_force(
            session=session, matter_code="CG-008", circumstance="测试较重", day=date(2026, 1, 1)
        )
    assert (standard.fine_min, standard.fine_max) == (Decimal(40000), Decimal(70000))
    assert standard.effective_from == date(2025, 3, 1)
    assert standard.review_required is True


def test_a_file_that_is_not_a_workbook_or_not_csv_is_named(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    fake = tmp_path / "penalties.xlsx"
    fake.write_text("matter_code\n", "utf-8")
    result = run(settings, "import", "penalties", str(fake))
    assert result.returncode == 1
    assert "not an XLSX workbook" in result.stderr
    other = tmp_path / "penalties.xls"
    other.write_bytes(b"\xd0\xcf\x11\xe0")
    result = run(settings, "import", "penalties", str(other))
    assert result.returncode == 1
    assert "give a .csv or .xlsx file" in result.stderr
