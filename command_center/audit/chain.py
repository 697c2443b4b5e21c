"""The hash chain over the event log: the definition of a link, and its check. No I/O.

Each event row holds `prev_hash`, the `hash` of the row before it (64 zeros for event 1),
and its own `hash`:

    hash = sha256_hex(utf8(canonical_json(
        [prev_hash, id, at, type, clue_id, data, jurisdiction_path, squad_codes])))

- `at`: the time in UTC with microseconds, `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
- `clue_id`: a number or null; `jurisdiction_path`, `squad_codes`: arrays of strings in
  their stored order.
- `data`: the jsonb value as PostgreSQL prints it (`data::text`), re-written canonically.
- canonical JSON: object keys sorted by Unicode code point, no whitespace, strings as
  `json.dumps(ensure_ascii=False)` writes them (only `"`, `\\` and control characters
  escaped), numbers exactly as PostgreSQL prints them (jsonb keeps numbers as `numeric`,
  so no digit is lost to floating point).

Changing any hashed field of a row, or its `prev_hash`, breaks its own hash; removing a
row leaves a gap in the ids; rewriting a row *and* its hash breaks the link held by the
next row. Removing the newest rows leaves no trace inside the chain: compare the last id
and hash with a copy kept elsewhere. `recorded_at` is not hashed.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class ChainRow:
    """One row of the log as stored; `data` is the jsonb text PostgreSQL returned."""

    id: int
    at: datetime
    type: str
    clue_id: int | None
    data: str
    jurisdiction_path: tuple[str, ...]
    squad_codes: tuple[str, ...]
    prev_hash: str = ""
    hash: str = ""


class Break(enum.Enum):
    MISSING = "the row is missing (removed?)"
    CHANGED = "the row was changed after it was written"
    RELINKED = "it does not follow event {previous} (one of the two was rewritten and rehashed)"
    OUT_OF_ORDER = "it comes after event {previous} (rows out of order)"


@dataclass(frozen=True, slots=True)
class Broken:
    """The first broken link: the event named and what is wrong with it."""

    event_id: int
    kind: Break
    previous_id: int | None = None

    @property
    def reason(self) -> str:
        if self.kind is Break.RELINKED and self.previous_id == 0:
            return "its prev_hash is not the start of the chain (rewritten and rehashed)"
        return self.kind.value.format(previous=self.previous_id)

    def __str__(self) -> str:
        return f"chain broken at event {self.event_id}: {self.reason}"


class _Number(str):
    """A JSON number token, kept as written."""


_DECODER = json.JSONDecoder(parse_float=_Number, parse_int=_Number)
_LITERALS = {None: "null", True: "true", False: "false"}


def canonical_json(value: Any) -> str:
    """The canonical text of a JSON value (see the module docstring).

    Numbers must come as raw tokens (`canonical_data` parses them so) or ints; a float is
    refused with TypeError, because its text would depend on how it was made.
    """
    kind = type(value)
    if kind is str:
        return encode_basestring(value)  # what json.dumps(ensure_ascii=False) writes
    if kind is _Number:
        return str(value)
    if kind is dict:
        items = sorted(value.items())
        return "{" + ",".join(f"{encode_basestring(k)}:{canonical_json(v)}" for k, v in items) + "}"
    if kind is list or kind is tuple:
        return "[" + ",".join([canonical_json(item) for item in value]) + "]"
    if kind is int:
        return str(value)
    if value is None or kind is bool:
        return _LITERALS[value]
    raise TypeError(f"not part of canonical JSON: {kind.__name__}")


def canonical_data(text: str) -> str:
    """Re-write JSON text (as PostgreSQL prints a jsonb value) canonically."""
    return canonical_json(_DECODER.decode(text))


def utc_micro(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ`; a naive datetime is refused with ValueError."""
    if moment.tzinfo is None:
        raise ValueError("the time of an event must carry its zone")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def link_hash(prev_hash: str, row: ChainRow) -> str:
    """The hash `row` must hold when it follows a row whose hash is `prev_hash`.

    Ignores `row.prev_hash` and `row.hash`. Raises ValueError if `row.data` is not JSON.
    """
    content = (
        f"[{canonical_json(prev_hash)},{row.id},{canonical_json(utc_micro(row.at))},"
        f"{canonical_json(row.type)},{canonical_json(row.clue_id)},{canonical_data(row.data)},"
        f"{canonical_json(row.jurisdiction_path)},{canonical_json(row.squad_codes)}]"
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def verify(
    rows: Iterable[ChainRow], *, start_prev: str = GENESIS, start_id: int = 1
) -> Broken | None:
    """The first broken link among `rows`, read in id order, or None if they all hold.

    `start_prev` and `start_id` are the hash and id + 1 of the row before the first one
    (defaults: the start of the log), so a long chain can be checked a batch at a time.
    Checked per row, in this order: its id follows the previous one (else MISSING, or
    OUT_OF_ORDER for an id that does not increase); its hash matches its content and its
    own prev_hash (else CHANGED); its prev_hash is the previous row's hash (else RELINKED).
    """
    prev_hash, expected_id = start_prev, start_id
    for row in rows:
        if row.id > expected_id:
            return Broken(expected_id, Break.MISSING)
        if row.id < expected_id:
            return Broken(row.id, Break.OUT_OF_ORDER, previous_id=expected_id - 1)
        if row.hash != link_hash(row.prev_hash, row):
            return Broken(row.id, Break.CHANGED)
        if row.prev_hash != prev_hash:
            return Broken(row.id, Break.RELINKED, previous_id=row.id - 1)
        prev_hash, expected_id = row.hash, row.id + 1
    return None
