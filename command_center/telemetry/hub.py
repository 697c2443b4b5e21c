"""The live-position hub of one process: each watcher gets the updates in its scope.

There is no backpressure and no backlog: a watcher keeps only the newest update per key
(per device), so a slow client skips intermediate positions and never falls behind.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from command_center.auth.model import Principal
from command_center.telemetry.bus import Update


@dataclass(eq=False)
class Watcher:
    principal: Principal
    _pending: dict[str, str] = field(default_factory=dict)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, update: Update, text: str) -> None:
        if self.principal.sees_clue(
            jurisdiction_path=update.jurisdiction_path, squad_codes=update.squad_codes
        ):
            self._pending.pop(update.key, None)  # keep arrival order of the newest
            self._pending[update.key] = text
            self._ready.set()

    async def next_batch(self) -> list[str]:
        """The newest pending update of every key, oldest first; waits for one."""
        await self._ready.wait()
        self._ready.clear()
        batch = list(self._pending.values())
        self._pending.clear()
        return batch


class TelemetryHub:
    def __init__(self) -> None:
        self._watchers: set[Watcher] = set()

    @property
    def watchers(self) -> int:
        return len(self._watchers)

    def subscribe(self, principal: Principal) -> Watcher:
        watcher = Watcher(principal)
        self._watchers.add(watcher)
        return watcher

    def unsubscribe(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    def offer(self, update: Update) -> None:
        text = update.public_json()  # serialised once, not once per watcher
        for watcher in self._watchers:
            watcher.offer(update, text)
