"""The pure rules of accounts: duties kept apart, scopes, passwords, lockout, redirects,
the log redaction of tokens."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from command_center.accounts import model
from command_center.accounts.model import LockRule, PasswordPolicy, RuleBroken
from command_center.auth.dependencies import query_token
from command_center.auth.model import Principal, Role
from command_center.logs import scrub

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
POLICY = PasswordPolicy(min_length=8, min_classes=3)


def test_the_default_roles_hold_at_most_one_administrator_duty_each() -> None:
    for bundle in model.DEFAULT_ROLES.values():
        model.check_bundle(bundle.permissions)
        assert len(model.duties_of(bundle.permissions)) == (1 if bundle.duty else 0)
    assert {b.duty for b in model.DEFAULT_ROLES.values()} == {None, "system", "security", "audit"}


def test_a_role_spanning_two_duties_is_refused() -> None:
    with pytest.raises(RuleBroken, match="三员分立"):
        model.check_bundle(["user.manage", "audit.read"])
    with pytest.raises(RuleBroken, match="work cases"):
        model.check_bundle(["audit.read", "clue.dispatch"])
    with pytest.raises(RuleBroken, match=r"unknown permissions: clue\.delete"):
        model.check_bundle(["clue.delete"])


def test_the_migration_seeds_the_same_default_roles() -> None:
    path = Path(model.__file__).parents[1] / "db/migrations/versions/0012_accounts.py"
    spec = importlib.util.spec_from_file_location("m0012", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    seeded = {
        name: (title, duty, frozenset(perms))
        for name, (title, duty, perms) in migration.DEFAULT_ROLES.items()
    }
    assert seeded == {
        b.name: (b.title, b.duty, b.permissions) for b in model.DEFAULT_ROLES.values()
    }


def test_nobody_changes_their_own_role() -> None:
    with pytest.raises(RuleBroken, match="own role"):
        model.check_role_change(actor_id=7, target_id=7)
    model.check_role_change(actor_id=7, target_id=8)
    model.check_role_change(actor_id=None, target_id=7)  # the command line bootstraps


@pytest.mark.parametrize(
    ("role", "squad", "jurisdiction", "problem"),
    [
        (Role.SQUAD, None, None, "needs a squad"),
        (Role.SQUAD, "LD-01", "331102", "give no jurisdiction"),
        (Role.OPERATOR, "LD-01", None, "only squad members"),
        (Role.AUDITOR, None, "331102", "no jurisdiction"),
        (Role.DEVICE, None, None, "cannot hold"),
    ],
)
def test_a_scope_must_fit_the_role(
    role: Role, squad: str | None, jurisdiction: str | None, problem: str
) -> None:
    with pytest.raises(RuleBroken, match=problem):
        model.check_scope(role, squad=squad, jurisdiction=jurisdiction)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Ab1!", "at least 8 characters"),
        ("abcdefgh1", "at least 3 of the four kinds"),
        ("Zhangsan-2026", "login name"),
        ("Password123!", "commonly used"),
        ("Qwerty123", "commonly used"),
    ],
)
def test_weak_passwords_are_refused_by_name(password: str, problem: str) -> None:
    problems = model.password_problems(password, login="zhangsan", policy=POLICY)
    assert any(problem in p for p in problems), problems


def test_a_strong_password_passes() -> None:
    assert model.password_problems("Lian-Du-Zhifa-77", login="zhangsan", policy=POLICY) == []


def test_five_failures_in_the_window_lock_for_the_lock_time() -> None:
    rule = LockRule(max_failures=5, window=timedelta(minutes=15), lock=timedelta(minutes=15))
    four = [NOW - timedelta(minutes=m) for m in (10, 8, 6, 4)]
    assert model.lock_wait(four, now=NOW, rule=rule) is None
    five = [*four, NOW - timedelta(seconds=30)]
    assert model.lock_wait(five, now=NOW, rule=rule) == 870
    assert model.lock_wait(five, now=NOW + timedelta(minutes=15), rule=rule) is None
    spread = [NOW - timedelta(minutes=m) for m in (40, 30, 20, 10, 1)]  # never 5 in 15 min
    assert model.lock_wait(spread, now=NOW, rule=rule) is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console/dispatch?lang=en", "/console/dispatch?lang=en"),
        ("https://evil.example/", "/console"),
        ("//evil.example/x", "/console"),
        ("/\\evil.example", "/console"),
        ("javascript:alert(1)", "/console"),
        ("/ok\r\nSet-Cookie: x=1", "/console"),
        (None, "/console"),
    ],
)
def test_after_sign_in_only_a_path_of_this_site(target: str | None, expected: str) -> None:
    assert model.safe_next(target) == expected


def test_the_security_administrator_and_the_auditor_see_no_clue() -> None:
    for role in (Role.SECURITY_ADMIN, Role.AUDITOR):
        principal = Principal(role=role, subject="x")
        assert principal.scope_key is None
        assert not principal.sees_clue(jurisdiction_path=["331102"], squad_codes=["LD-01"])


def test_the_actor_names_the_account() -> None:
    actor = Principal(role=Role.OPERATOR, subject="wangli", user_id=42).as_actor()
    assert actor == {"role": "operator", "subject": "wangli", "squad": None, "user": 42}


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("token=abc", "abc"),
        ("a=1&token=x%2By", "x+y"),
        ("tok%65n=abc", None),
        ("TOKEN=abc", None),
        ("Token=abc", None),
        ("%74oken=abc", None),
        ("token=", None),
    ],
)
def test_the_token_is_read_under_its_one_name(query: str, found: str | None) -> None:
    assert query_token(query.encode()) == found


def test_jwt_shaped_strings_are_redacted_wherever_they_stand() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWhlcmU"
    for line in (
        f'"GET /ws?tok%65n={jwt} HTTP/1.1" 101',
        f'"GET /ws?TOKEN={jwt} HTTP/1.1" 101',
        f'"GET /console/wall/{jwt} HTTP/1.1" 404',
    ):
        assert jwt not in scrub(line) and "***jwt***" in scrub(line)
