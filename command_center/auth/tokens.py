"""Signed bearer tokens (JWT, HS256) that carry a role and its scope."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import jwt

from command_center.auth.model import TOKEN_ROLES, Principal, Role
from command_center.errors import InvalidInput, Unauthenticated

ALGORITHM = "HS256"
ISSUER = "command-center"


def mint(
    *,
    key: str,
    role: Role,
    subject: str | None = None,
    squad: str | None = None,
    jurisdiction: str | None = None,
    ttl: timedelta = timedelta(days=30),
    now: datetime | None = None,
) -> str:
    """A signed token for `role`; InvalidInput when the scope does not fit the role."""
    if role not in TOKEN_ROLES:
        raise InvalidInput(f"no token can be issued for the {role.value} role")
    if role is Role.SQUAD and not squad:
        raise InvalidInput("a squad token needs --squad CODE")
    if role is not Role.SQUAD and squad:
        raise InvalidInput("--squad only applies to the squad role")
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": subject or f"{role.value}-{secrets.token_hex(4)}",
        "role": role.value,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": secrets.token_hex(8),
    }
    if squad:
        claims["squad"] = squad
    if jurisdiction:
        claims["jurisdiction"] = jurisdiction
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify(token: str, *, key: str) -> Principal:
    """The principal of a valid token; Unauthenticated for anything else (no detail leaked)."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss"]},
        )
        role = Role(claims["role"])
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the token has expired") from None
    except (jwt.InvalidTokenError, KeyError, ValueError):
        raise Unauthenticated("the token is not valid") from None
    if role not in TOKEN_ROLES or (role is Role.SQUAD and not claims.get("squad")):
        raise Unauthenticated("the token is not valid")
    return Principal(
        role=role,
        subject=str(claims["sub"]),
        squad=claims.get("squad"),
        jurisdiction=claims.get("jurisdiction"),
    )
