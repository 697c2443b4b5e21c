"""The principal on the endpoints devices use, where device tokens are accepted too."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, WebSocket

from command_center.auth.dependencies import resolve
from command_center.auth.model import Principal


async def any_principal(request: Request) -> Principal:
    return await resolve(request, allow_device=True)


async def socket_principal(websocket: WebSocket) -> Principal:
    return await resolve(websocket, allow_device=True)


AnyPrincipal = Annotated[Principal, Depends(any_principal)]
