"""FastAPI dependencies that turn a bearer token into a Principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from command_center.auth import tokens
from command_center.auth.model import Principal, Role
from command_center.errors import Forbidden, Unauthenticated


def bearer_token(authorization: str | None, query_token: str | None) -> str | None:
    """The token from `Authorization: Bearer …`, else from the `token` query parameter."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return query_token or None


def principal_from_request(request: Request) -> Principal:
    token = bearer_token(request.headers.get("authorization"), request.query_params.get("token"))
    if token is None:
        raise Unauthenticated("a bearer token is required")
    return tokens.verify(token, key=request.app.state.signing_key)


CurrentPrincipal = Annotated[Principal, Depends(principal_from_request)]


def require_roles(*roles: Role) -> object:
    """A dependency that lets only `roles` through (403 otherwise)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this needs one of the roles: {allowed}")
        return principal

    return Depends(check)
