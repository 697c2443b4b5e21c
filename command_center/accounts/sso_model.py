"""Rules of single sign-on, without I/O: which account a set of claims names, and
whether the issuer's authentication counts as two factors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MAX_CLAIM_LENGTH = 100


class ClaimProblem(ValueError):
    """The claims do not name an account; the message says why (never the value)."""


def account_key(claims: Mapping[str, Any], fallback: Mapping[str, Any], *, claim: str) -> str:
    """The value of `claim` (from the ID token, else from UserInfo) that names the
    account: a non-empty string (a number is taken as its decimal text) of at most
    MAX_CLAIM_LENGTH characters, surrounding blanks removed. ClaimProblem otherwise."""
    value = claims.get(claim, fallback.get(claim))
    if isinstance(value, bool) or value is None:
        raise ClaimProblem(f"the identity platform sent no {claim} claim")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ClaimProblem(f"the {claim} claim is not a text")
    value = value.strip()
    if len(value) > MAX_CLAIM_LENGTH or any(ord(c) < 0x20 for c in value):
        raise ClaimProblem(f"the {claim} claim is not a plausible account name")
    return value


def second_factor_shown(claims: Mapping[str, Any], accepted: Sequence[str]) -> bool:
    """Whether the ID token's `amr` (RFC 8176) names a method of `accepted`, i.e. the
    issuer checked more than a password."""
    amr = claims.get("amr")
    if not isinstance(amr, list):
        return False
    return any(isinstance(method, str) and method in accepted for method in amr)


def created_login(key: str) -> str:
    """The login of an account a sign-on creates: `sso-` and the claim value reduced to
    the characters a login may hold (lower case), cut to the login's 64 characters."""
    kept = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "-" for c in key)
    return ("sso-" + kept.lower())[:64]
