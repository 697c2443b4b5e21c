"""Reading reference-data CSV files (and XLSX sheets): header checks and per-line errors,
no I/O. An XLSX sheet is read for its values only: formulas are never evaluated (the cached
result Excel stored is taken, as the CSV export would have it)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from command_center.errors import ImportRefused

MAX_REPORTED_ERRORS = 20

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: dict[str, str]

    def text(self, column: str, *, required: bool = True) -> str:
        value = (self.values.get(column) or "").strip()
        if required and not value:
            raise ValueError(f"{column} is empty")
        return value


def read_rows(text: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[Row]:
    """Rows of a CSV text (UTF-8, BOM tolerated) that has at least the `required` columns.

    Raises ImportRefused naming missing or unknown columns.
    """
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = _checked_header(reader.fieldnames or [], required, optional)
    reader.fieldnames = header
    rows = [Row(line=reader.line_num, values=dict(record)) for record in _records(reader)]
    return _some(rows)


def read_xlsx_rows(
    data: bytes, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> list[Row]:
    """Rows of the first sheet of an XLSX workbook whose first row is the header; a row's
    line is its row number in the sheet. Dates become ISO days, whole numbers lose `.0`."""
    from openpyxl import load_workbook  # only the XLSX imports need it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # zipfile, XML and openpyxl's own errors: all mean "not a workbook"
        raise ImportRefused("not an XLSX workbook") from None
    try:
        sheet = book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        first = next(lines, None)
        header = _checked_header([_cell(v) for v in first or ()], required, optional)
        rows = []
        for number, cells in enumerate(lines, start=2):
            values = dict(zip(header, (_cell(v) for v in cells), strict=False))
            if any(v.strip() for v in values.values()):
                rows.append(Row(line=number, values=values))
    finally:
        book.close()
    return _some(rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _checked_header(
    names: Iterable[object], required: tuple[str, ...], optional: tuple[str, ...]
) -> list[str]:
    header = [str(name).strip() for name in names]
    while header and not header[-1]:
        header.pop()  # a spreadsheet's empty trailing columns
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportRefused(
            f"missing columns: {', '.join(missing)} (header is: {','.join(header)})"
        )
    unknown = [c for c in header if c not in required and c not in optional]
    if unknown:
        raise ImportRefused(f"unknown columns: {', '.join(unknown)}")
    return header


def _some(rows: list[Row]) -> list[Row]:
    if not rows:
        raise ImportRefused("the file has no data rows")
    return rows


def _records(reader: csv.DictReader[str]) -> Iterator[dict[str, str]]:
    for record in reader:
        if any((value or "").strip() for value in record.values() if isinstance(value, str)):
            yield {k: v for k, v in record.items() if isinstance(k, str)}


def refuse_if_errors(errors: list[str]) -> None:
    """Raise ImportRefused listing the first errors (each already names its line)."""
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        more = len(errors) - len(shown)
        suffix = f"\n… and {more} more" if more else ""
        raise ImportRefused("nothing was imported:\n" + "\n".join(shown) + suffix)


def parse_bool(value: str, column: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"true", "1", "yes", "y", "t", "是"}:
        return True
    if lowered in {"false", "0", "no", "n", "f", "否"}:
        return False
    raise ValueError(f"{column} must be true or false, not {value!r}")


def parse_unique(
    text: str,
    *,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    build: Callable[[Row], T],
    key: Callable[[T], str],
) -> list[tuple[int, T]]:
    """Build one item per row, keyed uniquely; ImportRefused lists every bad line.

    `build` raises ValueError with a message naming the problem; the line is prefixed here.
    """
    return build_unique(read_rows(text, required=required, optional=optional), build, key)


def build_unique(
    rows: Iterable[Row], build: Callable[[Row], T], key: Callable[[T], str]
) -> list[tuple[int, T]]:
    """`parse_unique` over rows already read (from a CSV text or an XLSX sheet)."""
    errors: list[str] = []
    items: list[tuple[int, T]] = []
    seen: dict[str, int] = {}
    for row in rows:
        try:
            item = build(row)
        except ValueError as exc:
            errors.append(f"line {row.line}: {exc}")
            continue
        code = key(item)
        if code in seen:
            errors.append(f"line {row.line}: code {code} repeats line {seen[code]}")
            continue
        seen[code] = row.line
        items.append((row.line, item))
    refuse_if_errors(errors)
    return items
