"""Websockets that end with their credential: closed with 4401 when the token is revoked
or expires, the session ends or the account is disabled (within the revocation poll,
see accounts/revocations.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from fastapi import WebSocket

from command_center.accounts.revocations import Revocations
from command_center.auth.model import Principal

ENDED_CLOSE_CODE = 4401


async def while_credential_lasts(
    websocket: WebSocket, principal: Principal, work: Coroutine[Any, Any, None]
) -> None:
    """Run `work` (the socket's conversation) until it returns or raises, or until the
    principal's credential ends: then `work` is cancelled and the socket closed with
    4401 and the reason. Exceptions of `work` propagate."""
    revocations: Revocations | None = getattr(websocket.app.state, "revocations", None)
    if revocations is None:
        await work
        return
    watch = revocations.watch(principal)
    conversation = asyncio.ensure_future(work)
    ended = asyncio.ensure_future(watch.ended.wait())
    try:
        done, _ = await asyncio.wait({conversation, ended}, return_when=asyncio.FIRST_COMPLETED)
        if conversation in done:
            await conversation  # its result, or its exception
            return
        conversation.cancel()
        await asyncio.gather(conversation, return_exceptions=True)
        with contextlib.suppress(Exception):
            await websocket.close(code=ENDED_CLOSE_CODE, reason=watch.reason)
    finally:
        revocations.unwatch(watch)
        for task in (conversation, ended):
            task.cancel()
