"""Bearer tokens on the endpoints devices use, where device tokens are accepted too."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, WebSocket

from command_center.auth import tokens
from command_center.auth.dependencies import bearer_token
from command_center.auth.model import Principal
from command_center.errors import Unauthenticated


def verify_any(authorization: str | None, query_token: str | None, key: str) -> Principal:
    """The principal of any valid token, device tokens included; Unauthenticated else."""
    token = bearer_token(authorization, query_token)
    if token is None:
        raise Unauthenticated("a bearer token is required")
    return tokens.verify(token, key=key, allow_device=True)


def any_principal(request: Request) -> Principal:
    return verify_any(
        request.headers.get("authorization"),
        request.query_params.get("token"),
        request.app.state.signing_key,
    )


def socket_principal(websocket: WebSocket) -> Principal:
    return verify_any(
        websocket.headers.get("authorization"),
        websocket.query_params.get("token"),
        websocket.app.state.signing_key,
    )


AnyPrincipal = Annotated[Principal, Depends(any_principal)]
