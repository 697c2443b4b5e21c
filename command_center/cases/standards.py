"""The penalty reference file (`command-center import penalties`): one discretion standard
(裁量基准) per row — a matter of the catalogue, a circumstance, the day it takes effect, its
legal basis, fine range and allowed kinds. No I/O: rows in, validated standards out, or
ImportRefused listing every bad line and naming the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from command_center.cases.law import Kind
from command_center.errors import ImportRefused
from command_center.tabular import Row, build_unique, parse_bool, read_rows, read_xlsx_rows

COLUMNS = (
    "matter_code",
    "basis",
    "circumstance",
    "fine_min",
    "fine_max",
    "kinds",
    "review_required",
    "collective",
    "first_offence_exempt",
    "effective_from",
)
OPTIONAL_COLUMNS = ("basis_text", "description", "summary_limit")
MAX_CIRCUMSTANCE = 64
MAX_FINE = Decimal("1e11")  # numeric(14, 2)
BASIS = re.compile(r"^\s*(《[^《》]+》)\s*(\S.*?)\s*$")
# The Chinese names of Art. 9's kinds, as a standard's table prints them; or the English
# values themselves.
KIND_NAMES = {
    "警告": Kind.WARNING,
    "通报批评": Kind.CRITICISM,
    "罚款": Kind.FINE,
    "没收违法所得": Kind.CONFISCATION,
    "没收非法财物": Kind.CONFISCATION,
    "没收": Kind.CONFISCATION,
    "暂扣许可证件": Kind.LICENCE_SUSPENSION,
    "降低资质等级": Kind.QUALIFICATION_DOWNGRADE,
    "吊销许可证件": Kind.LICENCE_REVOCATION,
    "限制开展生产经营活动": Kind.BUSINESS_RESTRICTION,
    "责令停产停业": Kind.SUSPENSION_OF_BUSINESS,
    "责令关闭": Kind.CLOSURE,
    "限制从业": Kind.PRACTICE_RESTRICTION,
} | {kind.value: kind for kind in Kind}


@dataclass(frozen=True, slots=True)
class Basis:
    law: str  # 《中华人民共和国固体废物污染环境防治法》
    article: str  # 第一百一十一条第一款第（一）项
    text: str = ""

    def __str__(self) -> str:
        return f"{self.law}{self.article}"


@dataclass(frozen=True, slots=True)
class StandardRow:
    matter_code: str
    circumstance: str
    effective_from: date
    basis: Basis
    fine_min: Decimal | None
    fine_max: Decimal | None
    kinds: tuple[Kind, ...]
    review_required: bool
    collective: bool
    first_offence_exempt: bool
    description: str = ""
    summary_limit: Decimal | None = None

    @property
    def key(self) -> str:
        return f"{self.matter_code} / {self.circumstance} / {self.effective_from}"


def parse_penalties(data: bytes, *, xlsx: bool) -> list[tuple[int, StandardRow]]:
    """Every standard of a CSV (UTF-8) or XLSX file with its line, or ImportRefused."""
    if xlsx:
        rows = read_xlsx_rows(data, required=COLUMNS, optional=OPTIONAL_COLUMNS)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportRefused(
                "not UTF-8 text (save the CSV as UTF-8, or give the .xlsx)"
            ) from None
        rows = read_rows(text, required=COLUMNS, optional=OPTIONAL_COLUMNS)
    return build_unique(rows, _standard, key=lambda s: s.key)


def _standard(row: Row) -> StandardRow:
    circumstance = row.text("circumstance")
    if len(circumstance) > MAX_CIRCUMSTANCE:
        raise ValueError(f"circumstance is longer than {MAX_CIRCUMSTANCE} characters")
    kinds = _kinds(row.text("kinds"))
    low, high = _amount(row, "fine_min"), _amount(row, "fine_max")
    if low is not None and high is not None and low > high:
        raise ValueError(f"fine_min {low} is more than fine_max {high}")
    if (low is not None or high is not None) and Kind.FINE not in kinds:
        raise ValueError("fine_min/fine_max are given but kinds has no fine (罚款)")
    return StandardRow(
        matter_code=row.text("matter_code"),
        circumstance=circumstance,
        effective_from=_day(row.text("effective_from")),
        basis=_basis(row.text("basis"), row.text("basis_text", required=False)),
        fine_min=low,
        fine_max=high,
        kinds=kinds,
        review_required=parse_bool(row.text("review_required"), "review_required"),
        collective=parse_bool(row.text("collective"), "collective"),
        first_offence_exempt=parse_bool(row.text("first_offence_exempt"), "first_offence_exempt"),
        description=row.text("description", required=False),
        summary_limit=_amount(row, "summary_limit"),
    )


def _basis(value: str, text: str) -> Basis:
    match = BASIS.match(value)
    if not match:
        raise ValueError(
            f"basis {value!r} must be 《law》 then the article, e.g. 《城市绿化条例》第二十六条"
        )
    return Basis(law=match[1], article=match[2], text=text)


def _kinds(value: str) -> tuple[Kind, ...]:
    kinds: list[Kind] = []
    for name in (part.strip() for part in re.split(r"[;；、]", value)):
        if not name:
            continue
        kind = KIND_NAMES.get(name)
        if kind is None:
            raise ValueError(
                f"kinds: unknown kind {name!r} (one of {', '.join(k.value for k in Kind)}, "
                "or its Chinese name)"
            )
        if kind not in kinds:
            kinds.append(kind)
    if not kinds:
        raise ValueError("kinds is empty")
    return tuple(kinds)


def _amount(row: Row, column: str) -> Decimal | None:
    text = row.text(column, required=False).replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{column} {text!r} is not an amount in yuan") from None
    if not value.is_finite() or value < 0 or value >= MAX_FINE or value != round(value, 2):
        raise ValueError(f"{column} {text!r} is not an amount in yuan (0 or more, in fen at most)")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"effective_from {text!r} is not a day (YYYY-MM-DD)") from None
