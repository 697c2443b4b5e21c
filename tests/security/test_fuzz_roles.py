"""Property-based fuzzing of the whole OpenAPI document (schemathesis) with a token of
each kind of caller: whatever is sent, the answer is never a server error, and no
answer holds a clue, an event or a device outside the caller's scope.

The scope of what comes back is judged from the database's own rows (a clue's
jurisdiction path, squad and assisting squads; a device's squad) with the scope rule of
auth.model, so an SQL filter or a router that forgot its check is caught. Public
operations (Open311, the mini-program, /track, /health) are the same for every caller
and get fewer examples here; tests/api/test_public_fuzz.py fuzzes them at length.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from command_center.auth.model import Principal
from tests.security.world import PRINCIPALS, World

PUBLIC = re.compile(r"^/(open311/v2/|api/v1/public/|track/|health)")
EXAMPLES, PUBLIC_EXAMPLES = 8, 2


def _principal(caller: str) -> Principal | None:
    claims = PRINCIPALS[caller]
    if claims is None:
        return None
    return Principal(
        role=claims["role"],
        subject=caller,
        squad=claims.get("squad"),
        jurisdiction=claims.get("jurisdiction"),
        device=claims.get("device"),
    )


def _mentioned(body: Any, clues: set[int], devices: set[str]) -> None:
    """The clue ids and device ids an answer shows, at any depth."""
    if isinstance(body, list):
        for item in body:
            _mentioned(item, clues, devices)
    elif isinstance(body, dict):
        if {"id", "service_request_id", "state"} <= body.keys():
            clues.add(int(body["id"]))
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("clue_id"), int):
            clues.add(data["clue_id"])
        device = body.get("device")
        if isinstance(device, dict) and isinstance(device.get("id"), str):
            devices.add(device["id"])
        if {"id", "kind", "squad_code", "label"} <= body.keys():
            devices.add(str(body["id"]))
        for value in body.values():
            _mentioned(value, clues, devices)


def outside_scope(world: World, principal: Principal, body: Any) -> list[str]:
    """What `body` shows that `principal` may not see."""
    clues: set[int] = set()
    devices: set[str] = set()
    _mentioned(body, clues, devices)
    found = []
    with world.connect() as conn:
        for clue_id, path, squad, assistants in conn.execute(
            "SELECT c.id, c.jurisdiction_path, c.squad_code, ARRAY(SELECT a.squad_code "
            "FROM assignments a WHERE a.clue_id = c.id) FROM clues c WHERE c.id = ANY(%s)",
            (list(clues),),
        ):
            squads = [s for s in (squad, *assistants) if s]
            if not principal.sees_clue(jurisdiction_path=path, squad_codes=squads):
                found.append(f"clue {clue_id}")
        if principal.squad is not None and principal.device is None:
            for device_id, squad in conn.execute(
                "SELECT id, squad_code FROM devices WHERE id = ANY(%s)", (list(devices),)
            ):
                if squad != principal.squad:
                    found.append(f"device {device_id} of squad {squad}")
    return found


@pytest.mark.parametrize("caller", PRINCIPALS)
def test_no_server_error_and_nothing_outside_the_scope(caller: str, world: World) -> None:
    schema = schemathesis.openapi.from_url(f"{world.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 45, "the whole API is in the OpenAPI document"
    principal, headers = _principal(caller), world.headers(caller)
    for operation in operations:
        _fuzz(operation, world, principal, headers, public=bool(PUBLIC.match(operation.path)))


def _fuzz(
    operation: Any,
    world: World,
    principal: Principal | None,
    headers: dict[str, str],
    *,
    public: bool,
) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=PUBLIC_EXAMPLES if public else EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call(headers=headers, timeout=10)
        case.validate_response(response, checks=[not_a_server_error])
        if principal is None or public or response.status_code >= 300:
            return
        try:
            body = response.json()
        except ValueError:  # an SDP answer, a page, an image
            return
        assert outside_scope(world, principal, body) == [], response.text

    fuzz()
