"""The rules of accounts, without I/O: permissions and the default role bundles, the
three separated administrator duties (三员分立), the password policy, the lockout rule,
session deadlines and safe redirects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from command_center.auth.model import USER_ROLES, Role

LOGIN_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"

# Duties of the three administrators. A role's permissions may touch at most one duty, so
# that no account (one role each) holds two of them.
DUTY_PERMISSIONS: dict[str, frozenset[str]] = {
    "system": frozenset({"user.manage", "reference.manage", "device.register"}),
    "security": frozenset(
        {"role.manage", "scope.manage", "lock.manage", "session.manage", "security.policy"}
    ),
    "audit": frozenset({"audit.read"}),
}

OPERATIONAL_PERMISSIONS = frozenset(
    {
        "clue.view",
        "clue.dispatch",
        "clue.close",
        "clue.report",
        "clue.handle",
        "case.review",
        "supervision.manage",
        "token.own",
    }
)

PERMISSIONS: frozenset[str] = OPERATIONAL_PERMISSIONS.union(*DUTY_PERMISSIONS.values())


@dataclass(frozen=True, slots=True)
class RoleBundle:
    name: str
    title: str
    duty: str | None
    permissions: frozenset[str]


DEFAULT_ROLES: dict[str, RoleBundle] = {
    bundle.name: bundle
    for bundle in (
        RoleBundle(
            "operator",
            "指挥调度员",
            None,
            frozenset({"clue.view", "clue.dispatch", "clue.close", "clue.report", "token.own"}),
        ),
        RoleBundle("squad", "执法队员", None, frozenset({"clue.view", "clue.handle", "token.own"})),
        RoleBundle(
            "grid_worker", "网格员", None, frozenset({"clue.view", "clue.report", "token.own"})
        ),
        RoleBundle(
            "supervisor",
            "督办人员",
            None,
            frozenset(
                {"clue.view", "clue.close", "case.review", "supervision.manage", "token.own"}
            ),
        ),
        RoleBundle(
            "admin",
            "系统管理员",
            "system",
            DUTY_PERMISSIONS["system"] | {"clue.view", "token.own"},
        ),
        RoleBundle("security_admin", "安全管理员", "security", DUTY_PERMISSIONS["security"]),
        RoleBundle("auditor", "安全审计员", "audit", DUTY_PERMISSIONS["audit"]),
    )
}

ADMIN_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})


class RuleBroken(ValueError):
    """A rule of this module refused something; the message says which, for the user."""


def duties_of(permissions: Sequence[str] | frozenset[str]) -> set[str]:
    return {duty for duty, held in DUTY_PERMISSIONS.items() if held.intersection(permissions)}


def check_bundle(permissions: Sequence[str] | frozenset[str]) -> None:
    """RuleBroken when a role would hold an unknown permission or two administrator duties."""
    unknown = sorted(set(permissions) - PERMISSIONS)
    if unknown:
        raise RuleBroken(f"unknown permissions: {', '.join(unknown)}")
    duties = duties_of(permissions)
    if len(duties) > 1:
        raise RuleBroken(
            "one role may not hold two administrator duties (三员分立): "
            + ", ".join(sorted(duties))
        )
    if duties and set(permissions) & (OPERATIONAL_PERMISSIONS - {"clue.view", "token.own"}):
        raise RuleBroken("an administrator role may not also work cases")


def check_role_change(*, actor_id: int | None, target_id: int) -> None:
    """RuleBroken when someone would change their own role or scope (the command line,
    actor None, is the bootstrap and may)."""
    if actor_id is not None and actor_id == target_id:
        raise RuleBroken("nobody may change their own role or scope")


def check_scope(role: Role, *, squad: str | None, jurisdiction: str | None) -> None:
    """RuleBroken when the scope does not fit the role: a squad member has a squad and no
    jurisdiction, nobody else has a squad, the security administrator and the auditor
    have neither."""
    if role not in USER_ROLES:
        raise RuleBroken(f"an account cannot hold the {role.value} role")
    if role is Role.SQUAD and not squad:
        raise RuleBroken("a squad member's account needs a squad (--squad CODE)")
    if role is Role.SQUAD and jurisdiction:
        raise RuleBroken("a squad member's scope is the squad; give no jurisdiction")
    if role is not Role.SQUAD and squad:
        raise RuleBroken("only squad members belong to a squad")
    if role in (Role.SECURITY_ADMIN, Role.AUDITOR) and jurisdiction:
        raise RuleBroken(f"the {role.value} role has no jurisdiction")


def normal_login(login: str) -> str:
    """The stored form of a login name (lower case); RuleBroken when it cannot be one."""
    value = login.strip().lower()
    if not re.fullmatch(LOGIN_PATTERN, value):
        raise RuleBroken(
            "a login is 2-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


# --- passwords ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    min_length: int = 8
    min_classes: int = 3


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords too common to allow (lower case), read once."""
    path = Path(__file__).with_name("common_passwords.txt")
    words = path.read_text(encoding="utf-8").split()
    return frozenset(word.lower() for word in words if not word.startswith("#"))


def character_classes(password: str) -> int:
    classes = (
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    return sum(classes)


def password_problems(password: str, *, login: str, policy: PasswordPolicy) -> list[str]:
    """What is wrong with a new password (empty: it may be set). Never echoes it."""
    problems = []
    if len(password) < policy.min_length:
        problems.append(f"at least {policy.min_length} characters")
    if character_classes(password) < policy.min_classes:
        problems.append(
            f"characters of at least {policy.min_classes} of the four kinds "
            "(lower case, upper case, digits, other)"
        )
    lowered = password.lower()
    if login and login.lower() in lowered:
        problems.append("not containing the login name")
    if lowered in common_passwords() or _strip_digits_and_marks(lowered) in common_passwords():
        problems.append("not one of the commonly used passwords")
    return problems


def _strip_digits_and_marks(text: str) -> str:
    """`Password123!` → `password`: a common word with digits and a mark is still common."""
    return re.sub(r"[\d\W_]+$", "", text)


# --- failed sign-ins ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LockRule:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)


def lock_wait(failures: Sequence[datetime], *, now: datetime, rule: LockRule) -> int | None:
    """Seconds until sign-in is allowed again, or None when it is allowed now.

    `failures` are the times of failed attempts (any order). Locked for `lock` from the
    failure that made `max_failures` within `window`. Attempts refused while locked are
    not failures (the caller does not record them), so a lock ends when it says.
    """
    recent = sorted(at for at in failures if now - at < rule.window + rule.lock)
    for index in range(len(recent) - rule.max_failures, -1, -1):
        first, reached = recent[index], recent[index + rule.max_failures - 1]
        if reached - first <= rule.window:
            until = reached + rule.lock
            if until > now:
                return max(1, int((until - now).total_seconds() + 0.999))
            return None
    return None


# --- sessions ----------------------------------------------------------------------------


def session_deadline(
    *, created_at: datetime, last_seen_at: datetime, idle: timedelta, absolute: timedelta
) -> datetime:
    """When a session ends if nothing more happens: idle time after the last request, but
    never later than `absolute` after sign-in."""
    return min(last_seen_at + idle, created_at + absolute)


def safe_next(target: str | None, default: str = "/console") -> str:
    """A redirect target after sign-in: a path of this site only (no scheme, no host, no
    `//host` or `/\\host` that browsers read as another site); `default` otherwise."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x20 or c == "\\" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def totp_required(role: Role, required_roles: Sequence[str]) -> bool:
    return "*" in required_roles or role.value in required_roles


def password_expired(
    *, changed_at: datetime | None, now: datetime, max_age: timedelta | None
) -> bool:
    """True when a password set at changed_at is older than max_age (None: no age)."""
    return max_age is not None and changed_at is not None and now - changed_at >= max_age
