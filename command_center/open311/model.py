"""What the public sees of a request, and how the loop's states map to Open311's. No I/O.

| loop event | extended status (servicerequestupdates) | status |
| --- | --- | --- |
| clue.received | OPEN | open |
| clue.queued | INVESTIGATING | open |
| clue.dispatched | ACTION_SCHEDULED | open |
| clue.accepted, clue.on_scene | IN_PROGRESS | open |
| clue.handled, clue.verified | FIXED | open |
| clue.closed | CLOSED | closed |
| clue.returned | INTERNAL_REFERRAL | open |
| clue.reopened | REOPEN | open |
| clue.cancelled | NO_FURTHER_ACTION; NOT_COUNCILS_RESPONSIBILITY if not_responsible | closed |
| clue.duplicate | DUPLICATE | follows the clue it repeats |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

EXTENDED_STATUS: dict[str, str] = {
    "clue.received": "OPEN",
    "clue.queued": "INVESTIGATING",
    "clue.dispatched": "ACTION_SCHEDULED",
    "clue.accepted": "IN_PROGRESS",
    "clue.on_scene": "IN_PROGRESS",
    "clue.handled": "FIXED",
    "clue.verified": "FIXED",
    "clue.closed": "CLOSED",
    "clue.returned": "INTERNAL_REFERRAL",
    "clue.reopened": "REOPEN",
    "clue.cancelled": "NO_FURTHER_ACTION",
    "clue.duplicate": "DUPLICATE",
}
NOT_RESPONSIBLE = "not_responsible"

PUBLIC_NOTE: dict[str, str] = {
    "clue.received": "已受理",
    "clue.queued": "指挥中心正在调度",
    "clue.dispatched": "已派遣执法队",
    "clue.accepted": "执法队已接收",
    "clue.on_scene": "执法队已到达现场",
    "clue.handled": "已处置，待核查",
    "clue.verified": "已核查",
    "clue.closed": "已办结",
    "clue.returned": "转指挥中心重新调度",
    "clue.reopened": "已重新办理",
    "clue.cancelled": "已终止办理",
    "clue.duplicate": "与已受理的同一问题合并办理",
}
# Notes written by these steps are meant for the public (results, reasons for ending).
PUBLIC_NOTE_TYPES = frozenset({"clue.handled", "clue.closed", "clue.cancelled", "clue.reopened"})


def extended_status(event_type: str, data: dict[str, Any]) -> str:
    if event_type == "clue.cancelled" and data.get("outcome") == NOT_RESPONSIBLE:
        return "NOT_COUNCILS_RESPONSIBILITY"
    return EXTENDED_STATUS[event_type]


def public_description(event_type: str, data: dict[str, Any]) -> str:
    base = PUBLIC_NOTE[event_type]
    note = data.get("note")
    if event_type in PUBLIC_NOTE_TYPES and note:
        return f"{base}：{note}"
    if event_type == "clue.duplicate" and data.get("duplicate_of_service_request_id"):
        return f"{base}（{data['duplicate_of_service_request_id']}）"
    return base


@dataclass(frozen=True, slots=True)
class PublicRequest:
    service_request_id: str
    state: str  # the state that decides the status (a duplicate's original's)
    status_note: str | None
    matter_code: str
    matter_name: str
    department: str
    description: str
    media_url: str | None
    address: str | None
    lon: float
    lat: float
    created_at: datetime
    updated_at: datetime
    deadline: datetime | None
    duplicate_of: str | None
    report_count: int
    channel: str = ""
    public_hidden: bool = False
    public_description: str | None = None  # an operator's text for the public
    public_photo_id: int | None = None  # the first photo with a public copy (EXIF gone)

    def media_path(self) -> str | None:
        """What `media_url` points at: the URL the reporter gave, else the public copy of
        the first photo that came with the tip (a path under the service's base URL, keyed
        by the case number: the progress code, which opens the tip's history, stays the
        reporter's)."""
        if self.media_url:
            return self.media_url
        if self.public_photo_id is None:
            return None
        return f"/open311/v2/media/{self.service_request_id}/{self.public_photo_id}"


@dataclass(frozen=True, slots=True)
class RequestUpdate:
    update_id: int
    service_request_id: str
    event_type: str
    at: datetime
    data: dict[str, Any]
