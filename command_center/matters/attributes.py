"""Per-matter extra questions (Open311 service attributes) and checking the answers. No I/O.

Datatypes are the GeoReport v2 ones: string, number, datetime, text, singlevaluelist,
multivaluelist. List values are `key` codes from the definition.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from command_center.errors import InvalidInput
from command_center.tabular import Row, parse_bool, parse_unique

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LISTS = ("singlevaluelist", "multivaluelist")
COLUMNS = ("matter_code", "code", "datatype", "required", "description")
OPTIONAL_COLUMNS = ("datatype_description", "order", "values", "variable")
MAX_LENGTH = {"string": 1000, "text": 4000}


@dataclass(frozen=True, slots=True)
class Choice:
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class AttributeDefinition:
    matter_code: str
    code: str
    datatype: str
    required: bool
    description: str
    datatype_description: str = ""
    order: int = 1
    variable: bool = True
    values: tuple[Choice, ...] = ()

    def as_open311(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description or None,
            "order": self.order,
            "description": self.description,
            "values": [{"key": c.key, "name": c.name} for c in self.values],
        }


def parse_attributes_csv(text: str) -> list[AttributeDefinition]:
    """Definitions from CSV `matter_code,code,datatype,required,description[,
    datatype_description,order,values,variable]`; `values` is `key:name;key:name`."""
    parsed = parse_unique(
        text,
        required=COLUMNS,
        optional=OPTIONAL_COLUMNS,
        build=_definition,
        key=lambda d: f"{d.matter_code}/{d.code}",
    )
    return [definition for _, definition in parsed]


def _definition(row: Row) -> AttributeDefinition:
    datatype = row.text("datatype")
    if datatype not in DATATYPES:
        raise ValueError(f"datatype {datatype!r} is not one of {', '.join(DATATYPES)}")
    values = tuple(_choices(row.text("values", required=False)))
    if datatype in LISTS and not values:
        raise ValueError(f"a {datatype} needs values (key:name;key:name)")
    order_text = row.text("order", required=False) or "1"
    if not order_text.isdigit():
        raise ValueError(f"order {order_text!r} is not a whole number")
    return AttributeDefinition(
        matter_code=row.text("matter_code"),
        code=row.text("code"),
        datatype=datatype,
        required=parse_bool(row.text("required"), "required"),
        description=row.text("description"),
        datatype_description=row.text("datatype_description", required=False),
        order=int(order_text),
        variable=parse_bool(row.text("variable", required=False) or "true", "variable"),
        values=values,
    )


def _choices(text: str) -> list[Choice]:
    choices = []
    for item in (part.strip() for part in text.split(";")):
        if not item:
            continue
        key, sep, name = item.partition(":")
        if not sep or not key.strip():
            raise ValueError(f"value {item!r} must be key:name")
        choices.append(Choice(key.strip(), name.strip()))
    return choices


def check_answers(
    definitions: Sequence[AttributeDefinition], answers: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """The answers as stored (numbers as floats, lists as lists); InvalidInput names the
    first problem: an unknown code, a missing required answer, a value of the wrong type."""
    by_code = {d.code: d for d in definitions}
    unknown = sorted(set(answers) - {d.code for d in definitions if d.variable})
    if unknown:
        raise InvalidInput(f"unknown attribute {unknown[0]!r} for this service_code")
    checked: dict[str, Any] = {}
    for definition in sorted(definitions, key=lambda d: d.order):
        values = [v.strip() for v in answers.get(definition.code, ()) if v.strip()]
        if not values:
            if definition.required and definition.variable:
                raise InvalidInput(f"attribute[{definition.code}] is required")
            continue
        checked[definition.code] = _value(by_code[definition.code], values)
    return checked


def _value(definition: AttributeDefinition, values: list[str]) -> Any:
    name, kind = f"attribute[{definition.code}]", definition.datatype
    if kind == "multivaluelist":
        _check_keys(definition, values)
        return values
    if len(values) > 1:
        raise InvalidInput(f"{name} takes one value")
    value = values[0]
    if kind == "singlevaluelist":
        _check_keys(definition, [value])
        return value
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            raise InvalidInput(f"{name} must be a number") from None
        if not math.isfinite(number):
            raise InvalidInput(f"{name} must be a finite number")
        return number
    if kind == "datetime":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{name} must be an ISO-8601 date and time") from None
        return value
    if len(value) > MAX_LENGTH.get(kind, 1000):
        raise InvalidInput(f"{name} is longer than {MAX_LENGTH.get(kind, 1000)} characters")
    return value


def _check_keys(definition: AttributeDefinition, values: list[str]) -> None:
    keys = {c.key for c in definition.values}
    for value in values:
        if value not in keys:
            allowed = ", ".join(sorted(keys))
            raise InvalidInput(
                f"attribute[{definition.code}] value {value!r} is not one of: {allowed}"
            )
