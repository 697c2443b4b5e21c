"""Signed bearer tokens (JWT, HS256) that carry a role and its scope.

Every token minted now carries `tid`, the id of its record (accounts: api_tokens), by
which it is listed and revoked; a personal token also carries `uid`, its account. The
signature proves a token was minted here; whether it is still good (not revoked, its
account active) is the principal resolver's question (auth/dependencies.py). A token
without `tid` was minted by the release before accounts (see docs/accounts.md).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

import jwt

from command_center.auth.model import DEVICE_ID_PATTERN, TOKEN_ROLES, Principal, Role
from command_center.errors import InvalidInput, Unauthenticated

ALGORITHM = "HS256"
ISSUER = "command-center"
LONGEST = timedelta(days=3650)  # no token lives longer, whatever a setting says


def new_token_id() -> str:
    """A record id for a token: 16 hex digits, random."""
    return secrets.token_hex(8)


def mint(
    *,
    key: str,
    role: Role,
    subject: str | None = None,
    squad: str | None = None,
    jurisdiction: str | None = None,
    device: str | None = None,
    ttl: timedelta = timedelta(days=30),
    now: datetime | None = None,
    token_id: str | None = None,
    user_id: int | None = None,
) -> str:
    """A signed token for `role`; InvalidInput when the scope does not fit the role or
    the lifetime is not between a second and LONGEST.

    A device token names its device (`device`, which is also its stream) and optionally
    the squad it belongs to; it carries no jurisdiction. `token_id` is its record's id
    (a new random one when not given: such a token is good but cannot be listed).
    """
    if not timedelta(seconds=1) <= ttl <= LONGEST:
        raise InvalidInput(f"a token lives between 1 second and {LONGEST.days} days")
    if role not in TOKEN_ROLES:
        raise InvalidInput(f"no token can be issued for the {role.value} role")
    if role is Role.SQUAD and not squad:
        raise InvalidInput("a squad token needs --squad CODE")
    if role not in (Role.SQUAD, Role.DEVICE) and squad:
        raise InvalidInput("--squad only applies to the squad and device roles")
    _check_device_scope(role, device, jurisdiction)
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": subject or device or f"{role.value}-{secrets.token_hex(4)}",
        "role": role.value,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": secrets.token_hex(8),
        "tid": token_id or new_token_id(),
    }
    if user_id is not None:
        claims["uid"] = user_id
    if squad:
        claims["squad"] = squad
    if jurisdiction:
        claims["jurisdiction"] = jurisdiction
    if device:
        claims["device"] = device
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def _check_device_scope(role: Role, device: str | None, jurisdiction: str | None) -> None:
    if role is not Role.DEVICE:
        if device:
            raise InvalidInput("--device only applies to the device role")
        return
    if not device:
        raise InvalidInput("a device token needs --device ID")
    if not re.fullmatch(DEVICE_ID_PATTERN, device):
        raise InvalidInput(
            "a device id is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if jurisdiction:
        raise InvalidInput("--jurisdiction does not apply to device tokens")


def verify(token: str, *, key: str, allow_device: bool = False) -> Principal:
    """The principal of a valid token; Unauthenticated for anything else (no detail leaked).

    Device tokens are refused unless `allow_device`: only the endpoints a device uses
    (video ingest, telemetry) accept them, so a device token opens nothing else.
    """
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
    if role is Role.DEVICE:
        device = claims.get("device")
        if not isinstance(device, str) or not re.fullmatch(DEVICE_ID_PATTERN, device):
            raise Unauthenticated("the token is not valid")
        if not allow_device:
            raise Unauthenticated("a device token is only accepted for video ingest and telemetry")
    token_id, user_id = claims.get("tid"), claims.get("uid")
    if (token_id is not None and not isinstance(token_id, str)) or (
        user_id is not None and not isinstance(user_id, int)
    ):
        raise Unauthenticated("the token is not valid")
    return Principal(
        role=role,
        subject=str(claims["sub"]),
        squad=claims.get("squad"),
        jurisdiction=claims.get("jurisdiction"),
        device=claims.get("device") if role is Role.DEVICE else None,
        user_id=user_id,
        credential=f"token:{token_id}" if token_id else None,
        expires_at=float(claims["exp"]),
    )
