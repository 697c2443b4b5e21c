"""Cells that spreadsheet programs must not run (issue 15, finding 6). No I/O.

OWASP's CSV-injection guidance: a cell beginning with `=`, `+`, `-`, `@`, a tab or a
carriage return may be taken for a formula by Excel, LibreOffice or WPS (`=HYPERLINK(…)`
opens a link, `=cmd|…` ran programs in old versions). Such a text cell is prefixed with a
single quote, which makes the program show it as text; the csv module then quotes the
field as needed. Only text is neutralised: numbers the service writes itself (a negative
longitude) stay numbers. Every CSV the service writes goes through `safe_cell`; the
service writes no XLSX.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """`text`, prefixed with `'` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
