"""Who is calling and what they may see: roles, principals and scope rules. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    SQUAD = "squad"
    GRID_WORKER = "grid_worker"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"  # system administrator: users and reference data (三员: 系统管理员)
    SECURITY_ADMIN = "security_admin"  # roles, scopes, locks, sessions (安全管理员)
    AUDITOR = "auditor"  # reads the audit and sign-in records, nothing else (安全审计员)
    RESIDENT = "resident"  # anonymous public intake; never carried by a token
    SYSTEM = "system"  # the service acting by a rule (e.g. a bad rating reopens); no token
    DEVICE = "device"  # a body camera, drone or phone: publishes its video and telemetry


TOKEN_ROLES: tuple[Role, ...] = (
    Role.OPERATOR,
    Role.SQUAD,
    Role.GRID_WORKER,
    Role.SUPERVISOR,
    Role.ADMIN,
    Role.DEVICE,
)

# The roles a person's account may hold (a device or the public is never an account).
USER_ROLES: tuple[Role, ...] = (
    Role.OPERATOR,
    Role.SQUAD,
    Role.GRID_WORKER,
    Role.SUPERVISOR,
    Role.ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDITOR,
)

# Roles that see no clue at all: the public, devices, and the two administrator duties
# that are kept away from the cases (三员分立).
SEES_NO_CLUE: frozenset[Role] = frozenset(
    {Role.RESIDENT, Role.DEVICE, Role.SECURITY_ADMIN, Role.AUDITOR}
)

# A device id is also the name of its video stream (`/whip/<id>`).
DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


@dataclass(frozen=True, slots=True)
class Principal:
    """The bearer of a verified token or session (or the anonymous public).

    `user_id` names the account of a person (None for devices, kiosks, tokens of the
    previous release and the service itself); `credential` is what can be revoked
    ("token:<id>", "session:<hashed id>" or None) and `expires_at` its absolute end
    (a POSIX time), which the revocation watcher uses to close websockets.
    """

    role: Role
    subject: str
    squad: str | None = None
    jurisdiction: str | None = None
    device: str | None = None
    user_id: int | None = None
    # How the principal was proven, not who it is: left out of equality.
    credential: str | None = field(default=None, compare=False)
    expires_at: float | None = field(default=None, compare=False)

    def sees_clue(self, *, jurisdiction_path: Sequence[str], squad_codes: Sequence[str]) -> bool:
        """Whether a clue (or an event about it) lies inside this principal's scope.

        A squad sees what is assigned to it; a device sees nothing; everyone else sees their
        jurisdiction and everything below it; no jurisdiction means the whole system.
        """
        if self.role is Role.SQUAD:
            return self.squad is not None and self.squad in squad_codes
        if self.role in SEES_NO_CLUE:
            return False
        return self.jurisdiction is None or self.jurisdiction in jurisdiction_path

    @property
    def scope_key(self) -> ScopeKey | None:
        """What this principal's scope is keyed by (None: it sees no clue). `sees_clue` is
        true exactly when this key is among `audience(...)` of the clue."""
        if self.role is Role.SQUAD:
            return ("squad", self.squad) if self.squad is not None else None
        if self.role in SEES_NO_CLUE:
            return None
        return ("jurisdiction", self.jurisdiction)

    def as_actor(self) -> dict[str, str | int | None]:
        """How this principal is recorded in the event log: role, subject and the acting
        account's id (a number, so the log names the officer without personal data)."""
        actor: dict[str, str | int | None] = {
            "role": self.role.value,
            "subject": self.subject,
            "squad": self.squad,
        }
        if self.user_id is not None:
            actor["user"] = self.user_id
        return actor


ScopeKey = tuple[str, str | None]


def audience(*, jurisdiction_path: Sequence[str], squad_codes: Sequence[str]) -> list[ScopeKey]:
    """The distinct scope keys of everyone who sees a clue (see Principal.scope_key): its
    squads, each jurisdiction on its path, and the whole system."""
    keys: list[ScopeKey] = [("jurisdiction", None)]
    keys += [("jurisdiction", code) for code in dict.fromkeys(jurisdiction_path)]
    keys += [("squad", code) for code in dict.fromkeys(squad_codes)]
    return keys


PUBLIC = Principal(role=Role.RESIDENT, subject="public")
SYSTEM = Principal(role=Role.SYSTEM, subject="rules")
