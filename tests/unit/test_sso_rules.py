"""Single sign-on rules without I/O: the claim that names an account, whether the
issuer's authentication counts as two factors, the login of a created account, and the
settings that switch it on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from command_center.accounts.sso_model import (
    ClaimProblem,
    account_key,
    created_login,
    second_factor_shown,
)
from command_center.settings import Settings

DB = "postgresql+psycopg://u:p@127.0.0.1/x_test"


def test_the_account_claim_comes_from_the_id_token_else_from_userinfo() -> None:
    assert account_key({"officer_number": " 3311 "}, {}, claim="officer_number") == "3311"
    assert account_key({}, {"officer_number": "3312"}, claim="officer_number") == "3312"
    assert account_key({"officer_number": 3313}, {}, claim="officer_number") == "3313"
    token_wins = account_key({"n": "a"}, {"n": "b"}, claim="n")
    assert token_wins == "a"


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({}, "sent no officer_number"),
        ({"officer_number": None}, "sent no officer_number"),
        ({"officer_number": True}, "sent no officer_number"),
        ({"officer_number": "  "}, "not a text"),
        ({"officer_number": ["3311"]}, "not a text"),
        ({"officer_number": "x" * 101}, "not a plausible"),
        ({"officer_number": "33\n11"}, "not a plausible"),
    ],
)
def test_a_missing_or_odd_claim_names_no_account(claims: dict[str, object], words: str) -> None:
    with pytest.raises(ClaimProblem, match=words) as raised:
        account_key(claims, {}, claim="officer_number")
    assert "3311" not in str(raised.value)  # the value never goes into the message


def test_two_factors_need_an_accepted_amr_value() -> None:
    accepted = ["mfa", "otp", "hwk"]
    assert second_factor_shown({"amr": ["pwd", "otp"]}, accepted)
    assert second_factor_shown({"amr": ["mfa"]}, accepted)
    assert not second_factor_shown({"amr": ["pwd"]}, accepted)
    assert not second_factor_shown({"amr": "otp"}, accepted)  # not a list: not believed
    assert not second_factor_shown({}, accepted)


def test_a_created_login_keeps_only_what_a_login_may_hold() -> None:
    assert created_login("33110001") == "sso-33110001"
    assert created_login("浙A-001 x") == "sso--a-001-x"
    assert len(created_login("9" * 200)) == 64


def test_single_sign_on_is_off_by_default_and_creates_no_account() -> None:
    settings = Settings(database_url=DB, _env_file=None)  # type: ignore[call-arg]
    assert settings.oidc_issuer is None and settings.oidc_create_accounts is False
    assert settings.oidc_account_claim == "officer_number"


def test_sso_settings_are_checked_at_start() -> None:
    with pytest.raises(ValidationError, match="OIDC_CLIENT_ID is required"):
        Settings(
            database_url=DB, oidc_issuer="https://idp.example.gov.cn/realms/zj", _env_file=None
        )  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="https://"):
        Settings(
            database_url=DB,
            oidc_issuer="http://idp.example.gov.cn",
            oidc_client_id="cc",
            _env_file=None,
        )  # type: ignore[call-arg]
    loopback = Settings(
        database_url=DB,
        oidc_issuer="http://127.0.0.1:8080/realms/test",
        oidc_client_id="cc",
        oidc_scopes="profile, officer",
        _env_file=None,  # type: ignore[call-arg]
    )
    assert loopback.oidc_scopes == ["openid", "profile", "officer"]
