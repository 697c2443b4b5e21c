"""Bearer tokens carry a role and a scope; the scope decides what a caller sees."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from command_center.auth import tokens
from command_center.auth.model import Principal, Role
from command_center.errors import InvalidInput, Unauthenticated

KEY = "k" * 40


def test_a_squad_token_round_trips_with_its_squad() -> None:
    token = tokens.mint(key=KEY, role=Role.SQUAD, squad="LD-01", subject="device-7")
    principal = tokens.verify(token, key=KEY)
    assert principal == Principal(role=Role.SQUAD, subject="device-7", squad="LD-01")


def test_a_squad_token_needs_a_squad() -> None:
    with pytest.raises(InvalidInput, match="--squad"):
        tokens.mint(key=KEY, role=Role.SQUAD)


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = tokens.mint(key="x" * 40, role=Role.OPERATOR)
    with pytest.raises(Unauthenticated, match="not valid"):
        tokens.verify(token, key=KEY)


def test_an_expired_token_says_so() -> None:
    token = tokens.mint(
        key=KEY,
        role=Role.OPERATOR,
        ttl=timedelta(minutes=1),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(token, key=KEY)


def test_a_forged_role_is_refused() -> None:
    forged = jwt.encode(
        {"iss": "command-center", "sub": "x", "role": "overlord", "exp": 2_000_000_000},
        KEY,
        algorithm="HS256",
    )
    with pytest.raises(Unauthenticated):
        tokens.verify(forged, key=KEY)


def test_an_unsigned_token_is_refused() -> None:
    unsigned = jwt.encode(
        {"iss": "command-center", "sub": "x", "role": "admin", "exp": 2_000_000_000},
        None,
        algorithm="none",
    )
    with pytest.raises(Unauthenticated):
        tokens.verify(unsigned, key=KEY)


PATH = ("331100", "331102")


def test_a_squad_sees_only_its_own_assignments() -> None:
    squad = Principal(role=Role.SQUAD, subject="s", squad="LD-01")
    assert squad.sees_clue(jurisdiction_path=PATH, squad_codes=("LD-01",))
    assert not squad.sees_clue(jurisdiction_path=PATH, squad_codes=("LD-02",))
    assert not squad.sees_clue(jurisdiction_path=PATH, squad_codes=())


def test_an_operator_sees_its_jurisdiction_and_below() -> None:
    district = Principal(role=Role.OPERATOR, subject="o", jurisdiction="331102")
    assert district.sees_clue(jurisdiction_path=PATH, squad_codes=())
    assert not district.sees_clue(jurisdiction_path=("331100", "331121"), squad_codes=())
    city_wide = Principal(role=Role.OPERATOR, subject="o")
    assert city_wide.sees_clue(jurisdiction_path=("331100", "331121"), squad_codes=())


def test_the_public_sees_no_internal_events() -> None:
    public = Principal(role=Role.RESIDENT, subject="public")
    assert not public.sees_clue(jurisdiction_path=PATH, squad_codes=())


def test_devices_see_no_clue_events_over_http_or_the_log() -> None:
    from command_center.realtime.repository import scope_filter

    device = Principal(role=Role.DEVICE, subject="cam", device="cam-1")
    assert not device.sees_clue(jurisdiction_path=PATH, squad_codes=("LD-01",))
    assert scope_filter(device) == ("FALSE", {})
