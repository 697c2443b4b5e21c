"""What has ended, as every process knows it: revoked tokens, ended or idle sessions,
disabled accounts; and the open websockets to close when their credential ends.

Each process re-reads the whole set from PostgreSQL every `poll_seconds` (one query over
small partial indexes), so a revocation takes effect within that time on every worker
and host even when Redis is down; with Redis, a message on `channel` makes every
process re-read at once. A read that fails keeps the last set: nothing can be revoked
while PostgreSQL is unreachable, since revoking is a write there. Until the first read
succeeds the set is empty (sessions are checked in PostgreSQL on every request anyway).

Expiry needs no message: a watched principal whose `expires_at` has passed is ended
at the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis

from command_center.accounts import repository
from command_center.auth.model import Principal
from command_center.db.session import Database
from command_center.settings import Settings

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Watch:
    """One open websocket's principal; `ended` is set (once) with `reason` when its
    credential or account ends or expires."""

    principal: Principal
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Ended:
    tokens: frozenset[str] = frozenset()
    sessions: frozenset[str] = frozenset()
    users: frozenset[int] = frozenset()

    def reason(self, principal: Principal, now: float) -> str | None:
        """Why `principal` may no longer act, or None."""
        if principal.expires_at is not None and principal.expires_at <= now:
            return "the credential has expired"
        if principal.user_id is not None and principal.user_id in self.users:
            return "the account has been disabled"
        credential = principal.credential or ""
        kind, _, ref = credential.partition(":")
        if kind == "token" and ref in self.tokens:
            return "the token has been revoked"
        if kind == "session" and ref in self.sessions:
            return "the session has ended"
        return None


def _collect(rows: list[tuple[str, str]]) -> Ended:
    tokens, sessions, users = set(), set(), set()
    for kind, ref in rows:
        if kind == "token":
            tokens.add(ref)
        elif kind == "session":
            sessions.add(ref)
        else:
            users.add(int(ref))
    return Ended(frozenset(tokens), frozenset(sessions), frozenset(users))


class Revocations:
    def __init__(
        self,
        *,
        database: Database,
        poll_seconds: float,
        redis_url: str | None = None,
        channel: str = "",
    ) -> None:
        self._database = database
        self._poll = poll_seconds
        self._redis_url = redis_url
        self._channel = channel
        self._known = Ended()
        self._watches: set[Watch] = set()
        self._nudge = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def known(self) -> Ended:
        return self._known

    def refused(self, principal: Principal) -> str | None:
        """Why this principal is refused now (revoked, ended, disabled, expired), or None."""
        return self._known.reason(principal, time.time())

    def watch(self, principal: Principal) -> Watch:
        watch = Watch(principal)
        self._watches.add(watch)
        return watch

    def unwatch(self, watch: Watch) -> None:
        self._watches.discard(watch)

    async def start(self) -> None:
        with contextlib.suppress(Exception):
            await self.reload()
        self._tasks.append(asyncio.create_task(self._poll_loop(), name="revocations"))
        if self._redis_url:
            self._tasks.append(asyncio.create_task(self._listen(), name="revocations-redis"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def reload(self) -> None:
        """Re-read what has ended, then end the watches it concerns."""
        async with self._database.sessions() as session:
            self._known = _collect(await repository.ended(session))
        self.check_watches()

    def check_watches(self) -> None:
        now = time.time()
        for watch in list(self._watches):
            reason = self._known.reason(watch.principal, now)
            if reason is not None:
                watch.reason = reason
                watch.ended.set()
                self._watches.discard(watch)

    def nudge(self) -> None:
        """Re-read soon (this process made a revocation)."""
        self._nudge.set()

    async def announce(self) -> None:
        """After a revocation committed: re-read here, and tell every other process."""
        self.nudge()
        await announce(self._redis_url, self._channel)

    async def _poll_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudge.wait(), timeout=self._poll)
            self._nudge.clear()
            try:
                await self.reload()
            except Exception as exc:  # the database is away: keep the last set
                log.warning("revocations: cannot re-read (%s); keeping the last set", exc)
                self.check_watches()  # expiries still end on time

    async def _listen(self) -> None:
        """Re-read on each message; reconnects after a pause when Redis goes away."""
        assert self._redis_url
        while True:
            try:
                client = Redis.from_url(self._redis_url)
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.nudge()
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(self._poll)


def revocation_channel(settings: Settings) -> str:
    return f"{settings.event_channel}:revocations"


async def announce(redis_url: str | None, channel: str) -> None:
    """Tell every process to re-read now; silent when Redis is unset or away (their
    polls still see it within a second)."""
    if not redis_url:
        return
    with contextlib.suppress(Exception):
        client = Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
        try:
            await client.publish(channel, "ended")
        finally:
            await client.aclose()
