"""The enforcement-matter catalogue (执法事项): each matter is also an Open311 service."""

from __future__ import annotations

import re
from dataclasses import dataclass

from command_center.tabular import Row, parse_bool, parse_unique

COLUMNS = ("code", "name", "domain", "department", "legal_basis", "deadline_hours")
OPTIONAL_COLUMNS = (
    "penalty_standard",
    "duplicate_radius_m",
    "duplicate_window_hours",
    "keywords",
    "accept_minutes",
    "working_hours",
    "verify_needs_photo",
    "joint_departments",
)
DEFAULT_DUPLICATE_RADIUS_M = 50
DEFAULT_DUPLICATE_WINDOW_HOURS = 24
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
    duplicate_radius_m: int = DEFAULT_DUPLICATE_RADIUS_M
    duplicate_window_hours: int = DEFAULT_DUPLICATE_WINDOW_HOURS
    keywords: str = ""
    accept_minutes: int = 10
    working_hours: bool = False
    verify_needs_photo: bool = False
    joint_departments: tuple[str, ...] = ()


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
    hours = _whole(row, "deadline_hours", minimum=1)
    return Matter(
        code=code,
        name=row.text("name"),
        domain=row.text("domain"),
        department=row.text("department"),
        legal_basis=row.text("legal_basis"),
        deadline_hours=hours,
        penalty_standard=row.text("penalty_standard", required=False) or None,
        duplicate_radius_m=_whole(
            row, "duplicate_radius_m", minimum=0, default=DEFAULT_DUPLICATE_RADIUS_M
        ),
        duplicate_window_hours=_whole(
            row, "duplicate_window_hours", minimum=0, default=DEFAULT_DUPLICATE_WINDOW_HOURS
        ),
        keywords=row.text("keywords", required=False),
        accept_minutes=_whole(row, "accept_minutes", minimum=1, default=10),
        working_hours=parse_bool(
            row.text("working_hours", required=False) or "false", "working_hours"
        ),
        verify_needs_photo=parse_bool(
            row.text("verify_needs_photo", required=False) or "false", "verify_needs_photo"
        ),
        joint_departments=tuple(
            d.strip() for d in row.text("joint_departments", required=False).split(";") if d.strip()
        ),
    )


def _whole(row: Row, column: str, *, minimum: int, default: int | None = None) -> int:
    text = row.text(column, required=default is None)
    if not text and default is not None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a whole number") from None
    if value < minimum:
        qualifier = "positive" if minimum == 1 else f"at least {minimum}"
        raise ValueError(f"{column} must be {qualifier}, not {value}")
    return value
