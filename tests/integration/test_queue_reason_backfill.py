"""Migration 0011 gives rows written before it a queue_reason_code from their words:
each form of words the service wrote maps to the code the service writes now."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from sqlalchemy import text

from command_center.db.session import Database
from command_center.dispatch.model import Route, WaitReason

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "command_center/db/migrations/versions/0011_queue_reason_code.py"
)


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0011", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unrouted(serving: int, on_duty: int, excluded: tuple[str, ...] = ()) -> Route:
    return Route(
        jurisdiction_code="331102001",
        jurisdiction_path=("331100", "331102", "331102001"),
        matter_code="M01",
        department="城管局",
        deadline_hours=24,
        squad_code=None,
        distance_m=None,
        serving_squads=serving,
        on_duty_squads=on_duty,
        now=datetime(2026, 11, 2, 2, 0, tzinfo=UTC),
        excluded=excluded,
    )


def _written_reasons() -> list[tuple[str, WaitReason]]:
    """What the service wrote in `queue_reason`, and the code it writes beside it now."""
    routes = [_unrouted(0, 0), _unrouted(3, 0), _unrouted(3, 2, excluded=("LD-01", "LD-02"))]
    reasons: list[tuple[str, WaitReason]] = []
    for route in routes:
        assert route.queue_reason is not None and route.queue_reason_code is not None
        reasons.append((route.queue_reason, route.queue_reason_code))
        reasons.append((f"reopened: 回访不满意; {route.queue_reason}", route.queue_reason_code))
    return [
        *reasons,
        ("returned by squad LD-01: 不属于本队辖区", WaitReason.RETURNED),
        (
            "only an address was given (莲都区 人民街 12 号); confirm the location, then dispatch",
            WaitReason.ADDRESS_ONLY,
        ),
        ("not accepted in time by LD-01, LD-02", WaitReason.NOT_ACCEPTED),
    ]


async def test_every_form_of_words_gets_the_code_the_service_writes(database: Database) -> None:
    code_of = text(
        f"SELECT {_migration().REASON_TO_CODE} "
        "FROM (SELECT CAST(:words AS text) AS queue_reason) AS clues"
    )
    written = _written_reasons()
    assert {code for _, code in written} == set(WaitReason)  # every code is covered
    async with database.sessions() as session:
        for words, code in written:
            assert await session.scalar(code_of, {"words": words}) == code.value, words
        unknown = await session.scalar(code_of, {"words": "something an older version never wrote"})
    assert unknown is None  # left without a code rather than given a wrong one
