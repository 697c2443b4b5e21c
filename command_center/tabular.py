"""Reading reference-data CSV files: header checks and per-line errors, no I/O."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportRefused(
            f"missing columns: {', '.join(missing)} (header is: {','.join(header)})"
        )
    unknown = [c for c in header if c not in required and c not in optional]
    if unknown:
        raise ImportRefused(f"unknown columns: {', '.join(unknown)}")
    reader.fieldnames = header
    rows = [Row(line=reader.line_num, values=dict(record)) for record in _records(reader)]
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


def parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"true", "1", "yes", "y", "t"}:
        return True
    if lowered in {"false", "0", "no", "n", "f"}:
        return False
    raise ValueError(f"on_duty must be true or false, not {value!r}")


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
    errors: list[str] = []
    items: list[tuple[int, T]] = []
    seen: dict[str, int] = {}
    for row in read_rows(text, required=required, optional=optional):
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
