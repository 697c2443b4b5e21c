"""Events: what the outbox records and what websocket clients receive.

A client sees `{"id", "type", "at", "data"}`; the scope fields stay inside the service.
Event ids are positive, gapless and increase in commit order (see realtime.relay).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Events of this prefix (sign-ins, sessions, tokens, roles) are records for the audit
# trail, hash-chained like every event, but never news: no websocket streams them and
# a webhook sends them only when it names them.
RECORD_ONLY_PREFIX = "account."


def record_only(event_type: str) -> bool:
    return event_type.startswith(RECORD_ONLY_PREFIX)


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event written to the outbox in the transaction of the change it describes."""

    type: str
    data: dict[str, Any]
    clue_id: int | None = None
    jurisdiction_path: tuple[str, ...] = ()
    squad_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    type: str
    at: datetime
    data: dict[str, Any]
    jurisdiction_path: tuple[str, ...] = field(default=())
    squad_codes: tuple[str, ...] = field(default=())

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "at": iso_utc(self.at), "data": self.data}

    def public_json(self) -> str:
        return json.dumps(self.public(), ensure_ascii=False, separators=(",", ":"))

    def to_wire(self) -> str:
        """The form carried between processes, scope included."""
        body = self.public()
        body["scope"] = {"path": list(self.jurisdiction_path), "squads": list(self.squad_codes)}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_wire(cls, raw: str | bytes) -> Event:
        body = json.loads(raw)
        scope = body.get("scope", {})
        return cls(
            id=int(body["id"]),
            type=str(body["type"]),
            at=datetime.fromisoformat(body["at"]),
            data=body["data"],
            jurisdiction_path=tuple(scope.get("path", ())),
            squad_codes=tuple(scope.get("squads", ())),
        )


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, millisecond precision."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
