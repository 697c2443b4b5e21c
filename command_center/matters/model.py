"""The enforcement-matter catalogue (执法事项): each matter is also an Open311 service."""

from __future__ import annotations

import re
from dataclasses import dataclass

from command_center.tabular import Row, parse_unique

COLUMNS = ("code", "name", "domain", "department", "legal_basis", "deadline_hours")
OPTIONAL_COLUMNS = ("penalty_standard",)
CODE_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Matter:
    code: str
    name: str
    domain: str
    department: str
    legal_basis: str
    deadline_hours: int
    penalty_standard: str | None = None


def parse_matters_csv(text: str) -> list[Matter]:
    """All matters of a catalogue file, or ImportRefused listing every bad line."""
    parsed = parse_unique(
        text, required=COLUMNS, optional=OPTIONAL_COLUMNS, build=_matter, key=lambda m: m.code
    )
    return [matter for _, matter in parsed]


def _matter(row: Row) -> Matter:
    code = row.text("code")
    if not CODE_PATTERN.match(code):
        raise ValueError(f"code {code!r} may hold only letters, digits, '.', '_' and '-'")
    hours_text = row.text("deadline_hours")
    try:
        hours = int(hours_text)
    except ValueError:
        raise ValueError(f"deadline_hours {hours_text!r} is not a whole number") from None
    if hours <= 0:
        raise ValueError(f"deadline_hours must be positive, not {hours}")
    return Matter(
        code=code,
        name=row.text("name"),
        domain=row.text("domain"),
        department=row.text("department"),
        legal_basis=row.text("legal_basis"),
        deadline_hours=hours,
        penalty_standard=row.text("penalty_standard", required=False) or None,
    )
