"""What a notification channel is, and how webhook bodies are signed. No I/O.

A channel receives committed events in id order and delivers them somewhere; it must be
idempotent per event id, since delivery is at least once. Webhook bodies carry the
event exactly as the websocket does, signed twice:

- `X-Command-Center-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body with the
  webhook's secret (body only: a captured request can be replayed);
- the Standard Webhooks headers (https://www.standardwebhooks.com): `webhook-id` (the
  event id, the same on every retry), `webhook-timestamp` (Unix seconds of the attempt)
  and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the
  secret's UTF-8 bytes — what `standard_secret` gives a receiver's library as
  `whsec_<base64>`. The timestamp lets a receiver refuse replays (the libraries allow
  five minutes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import Protocol

from command_center.realtime.events import Event

SIGNATURE_HEADER = "X-Command-Center-Signature"
MAX_BACKOFF_SECONDS = 3600


class Channel(Protocol):
    async def deliver(self, events: Sequence[Event]) -> int:
        """Deliver events in order; returns how many were delivered before a failure."""
        ...


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_secret(secret: str) -> str:
    """The secret as Standard Webhooks libraries take it."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def standard_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature` of one attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def wants(event_types: Sequence[str], event_type: str) -> bool:
    """Empty means every type but the audit-only `account.*` records; `clue.*` matches a
    prefix (`account.*` must be named to be sent)."""
    if not event_types:
        return not event_type.startswith("account.")
    return any(
        event_type == t or (t.endswith("*") and event_type.startswith(t[:-1])) for t in event_types
    )


def backoff_seconds(failures: int) -> int:
    """5 s, 10 s, 20 s … at most an hour between attempts."""
    return int(min(MAX_BACKOFF_SECONDS, 5 * 2 ** max(failures - 1, 0)))
