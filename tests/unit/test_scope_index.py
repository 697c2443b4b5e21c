"""The hub finds a connection by its principal's scope key: that must select exactly the
connections `sees_clue` admits, for every role and every shape of event."""

from __future__ import annotations

import itertools

from command_center.auth.model import Principal, Role, audience

PRINCIPALS = [
    Principal(role=Role.OPERATOR, subject="op"),
    Principal(role=Role.OPERATOR, subject="op", jurisdiction="331100"),
    Principal(role=Role.OPERATOR, subject="op", jurisdiction="331102"),
    Principal(role=Role.SUPERVISOR, subject="sv", jurisdiction="331121"),
    Principal(role=Role.GRID_WORKER, subject="gw", jurisdiction="331102-G01"),
    Principal(role=Role.ADMIN, subject="ad"),
    Principal(role=Role.SQUAD, subject="sq", squad="LD-01"),
    Principal(role=Role.SQUAD, subject="sq", squad="QT-01"),
    Principal(role=Role.SQUAD, subject="sq"),  # a squad token without a squad sees nothing
    Principal(role=Role.DEVICE, subject="cam", device="BC-1", squad="LD-01"),
    Principal(role=Role.RESIDENT, subject="public"),
    Principal(role=Role.SYSTEM, subject="rules"),
]
PATHS = [(), ("331100",), ("331100", "331102"), ("331100", "331102", "331102-G01")]
SQUADS = [(), ("LD-01",), ("LD-01", "QT-01"), ("QT-01", "QT-01")]


def test_scope_keys_select_exactly_whom_sees_clue_admits() -> None:
    for principal, path, squads in itertools.product(PRINCIPALS, PATHS, SQUADS):
        keys = audience(jurisdiction_path=path, squad_codes=squads)
        assert len(keys) == len(set(keys)), "each key once: no connection gets an event twice"
        selected = principal.scope_key is not None and principal.scope_key in keys
        admitted = principal.sees_clue(jurisdiction_path=path, squad_codes=squads)
        assert selected == admitted, (principal, path, squads)
