"""Who sees which clue: the one scope rule of the service and its SQL form.

A squad member sees the clues of the squad: those assigned to it and those it assists in
(joint enforcement, an assignment not withdrawn). Everyone else who may read clues sees a
jurisdiction and everything below it; no jurisdiction means the whole system. Which roles
may read a given feature at all is the feature's own list (`readers`); the rule of what
they then see is this one. `Principal.sees_clue` is the same rule for one event, and
`realtime.repository.scope_filter` its form over the events table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from command_center.auth.model import SEES_NO_CLUE, Principal, Role
from command_center.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose clues: a squad's, a jurisdiction's subtree, or everything (both None)."""

    jurisdiction: str | None = None
    squad: str | None = None


# Everyone who may read clues at all: not the public, devices, the service itself, nor
# the security and audit administrators (三员分立).
CLUE_READERS: frozenset[Role] = frozenset(Role) - SEES_NO_CLUE - {Role.SYSTEM}


def scope_of(
    by: Principal, *, readers: frozenset[Role] = CLUE_READERS, refusal: str | None = None
) -> Scope:
    """The scope of a principal allowed to read: a squad member (with a squad), or a role
    in `readers`; Forbidden with `refusal` for anyone else."""
    if by.role is Role.SQUAD and by.squad:
        return Scope(squad=by.squad)
    if by.role in readers and by.role is not Role.SQUAD:
        return Scope(jurisdiction=by.jurisdiction)
    raise Forbidden(refusal or f"the {by.role.value} role may not read clues")


def clue_filter(scope: Scope, alias: str = "c") -> tuple[str, dict[str, Any]]:
    """A SQL condition on the clue row `alias` and its parameters (named `scope_*`, so
    that they never collide with a query's own filters)."""
    if scope.squad is not None:
        return (
            f"({alias}.squad_code = :scope_squad OR EXISTS (SELECT 1 FROM assignments sa "
            f"WHERE sa.clue_id = {alias}.id AND sa.squad_code = :scope_squad "
            "AND sa.state <> 'withdrawn'))",
            {"scope_squad": scope.squad},
        )
    if scope.jurisdiction is not None:
        return (
            f"{alias}.jurisdiction_path @> ARRAY[CAST(:scope_jurisdiction AS text)]",
            {"scope_jurisdiction": scope.jurisdiction},
        )
    return "TRUE", {}
