"""The hash chain without a database: what is hashed, and every kind of break named."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from command_center.audit.chain import (
    GENESIS,
    Break,
    Broken,
    ChainRow,
    canonical_data,
    link_hash,
    verify,
)

T0 = datetime(2026, 11, 23, 3, 13, 16, 612345, tzinfo=UTC)


def chained(count: int) -> list[ChainRow]:
    """`count` rows linked as the relay links them, with data as PostgreSQL prints jsonb."""
    rows, prev = [], GENESIS
    for n in range(1, count + 1):
        row = ChainRow(
            id=n,
            at=T0 + timedelta(seconds=n),
            type="clue.dispatched",
            clue_id=n,
            data=f'{{"clue_id": {n}, "squad_code": "LD-02", "distance_m": 6302.6}}',
            jurisdiction_path=("331100", "331102"),
            squad_codes=("LD-02",),
        )
        row = dataclasses.replace(row, prev_hash=prev, hash=link_hash(prev, row))
        rows.append(row)
        prev = row.hash
    return rows


def rehashed(row: ChainRow, **changes: object) -> ChainRow:
    """`row` changed by someone who also recomputed its hash (but not the next row's)."""
    changed = dataclasses.replace(row, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(changed, hash=link_hash(changed.prev_hash, changed))


def test_the_hash_is_the_documented_sha256() -> None:
    row = chained(1)[0]
    content = (
        f'["{GENESIS}",1,"2026-11-23T03:13:17.612345Z","clue.dispatched",1,'
        '{"clue_id":1,"distance_m":6302.6,"squad_code":"LD-02"},["331100","331102"],["LD-02"]]'
    )
    assert row.hash == hashlib.sha256(content.encode("utf-8")).hexdigest()


def test_an_untouched_chain_verifies() -> None:
    assert verify(chained(50)) is None


def test_a_chain_verifies_batch_by_batch() -> None:
    rows = chained(10)
    assert verify(rows[:4]) is None
    assert verify(rows[4:], start_prev=rows[3].hash, start_id=5) is None


def test_a_changed_field_is_named() -> None:
    rows = chained(10)
    rows[6] = dataclasses.replace(rows[6], data=rows[6].data.replace("LD-02", "LD-03"))
    broken = verify(rows)
    assert broken == Broken(7, Break.CHANGED)
    assert str(broken) == "chain broken at event 7: the row was changed after it was written"


@pytest.mark.parametrize(
    "field, value",
    [
        ("type", "clue.closed"),
        ("clue_id", None),
        ("at", T0),
        ("jurisdiction_path", ("331100",)),
        ("squad_codes", ()),
        ("data", '{"clue_id": 3, "squad_code": "LD-02", "distance_m": 6302.60000000000001}'),
    ],
)
def test_every_hashed_field_counts(field: str, value: object) -> None:
    rows = chained(5)
    rows[2] = dataclasses.replace(rows[2], **{field: value})  # type: ignore[arg-type]
    assert verify(rows) == Broken(3, Break.CHANGED)


def test_a_removed_row_is_named_as_missing() -> None:
    rows = chained(10)
    del rows[3]
    broken = verify(rows)
    assert broken == Broken(4, Break.MISSING)
    assert str(broken) == "chain broken at event 4: the row is missing (removed?)"


def test_a_removed_first_row_is_named() -> None:
    assert verify(chained(3)[1:]) == Broken(1, Break.MISSING)


def test_a_gap_between_batches_is_named() -> None:
    rows = chained(10)
    assert verify(rows[5:], start_prev=rows[3].hash, start_id=5) == Broken(5, Break.MISSING)


def test_a_row_given_again_out_of_order_is_named() -> None:
    rows = chained(5)
    broken = verify([rows[0], rows[1], rows[2], rows[1]])
    assert broken == Broken(2, Break.OUT_OF_ORDER, previous_id=3)
    assert str(broken) == "chain broken at event 2: it comes after event 3 (rows out of order)"


def test_two_rows_swapped_in_place_are_found() -> None:
    """Renumbering rows to reorder history: ids are hashed, so both positions break."""
    rows = chained(5)
    third, fourth = rows[2], rows[3]
    rows[2] = dataclasses.replace(fourth, id=3)
    rows[3] = dataclasses.replace(third, id=4)
    assert verify(rows) == Broken(3, Break.CHANGED)


def test_a_changed_prev_hash_is_named() -> None:
    rows = chained(5)
    rows[2] = dataclasses.replace(rows[2], prev_hash="f" * 64)
    assert verify(rows) == Broken(3, Break.CHANGED)


def test_a_row_rewritten_with_its_hash_breaks_the_next_link() -> None:
    rows = chained(5)
    rows[2] = rehashed(rows[2], type="clue.closed")
    broken = verify(rows)
    assert broken == Broken(4, Break.RELINKED, previous_id=3)
    assert "does not follow event 3" in str(broken)


def test_a_forged_start_is_named() -> None:
    rows = chained(3)
    rows[0] = rehashed(rows[0], prev_hash="1" * 64)
    broken = verify(rows)
    assert broken == Broken(1, Break.RELINKED, previous_id=0)
    assert "not the start of the chain" in str(broken)


def test_canonical_json_ignores_key_order_and_spacing() -> None:
    assert canonical_data('{"b": 1, "a": {"d": [1, 2], "c": null}}') == canonical_data(
        '{"a":{"c":null,"d":[1,2]},"b":1}'
    )
    assert canonical_data('{"b": 1, "a": true}') == '{"a":true,"b":1}'


def test_canonical_json_keeps_unicode_and_escapes_only_what_json_must() -> None:
    assert canonical_data('{"部门": "综合\\u884c政执法局", "q": "a\\"b\\n"}') == (
        '{"q":"a\\"b\\n","部门":"综合行政执法局"}'
    )


def test_canonical_json_keeps_numbers_as_postgresql_prints_them() -> None:
    assert canonical_data('{"x": 6302.60, "y": 100000000000000000000, "z": -0.5}') == (
        '{"x":6302.60,"y":100000000000000000000,"z":-0.5}'
    )


def test_the_time_is_hashed_in_utc() -> None:
    row = chained(1)[0]
    shanghai = timezone(timedelta(hours=8))
    same_moment = dataclasses.replace(row, at=row.at.astimezone(shanghai))
    assert link_hash(GENESIS, same_moment) == row.hash
    with pytest.raises(ValueError, match="zone"):
        link_hash(GENESIS, dataclasses.replace(row, at=row.at.replace(tzinfo=None)))
