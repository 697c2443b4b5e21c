"""The clue life cycle as a table of allowed transitions, and who may take each action.

No I/O here: the table is data, an illegal step raises IllegalTransition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from command_center.auth.model import Role
from command_center.errors import Forbidden, IllegalTransition, InvalidInput
from gis.crs import CoordinateError, to_wgs84


class State(StrEnum):
    RECEIVED = "received"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    ON_SCENE = "on_scene"
    HANDLED = "handled"
    VERIFIED = "verified"
    CLOSED = "closed"
    RETURNED = "returned"
    REOPENED = "reopened"
    CANCELLED = "cancelled"
    DUPLICATE = "duplicate"  # linked to an open clue of the same matter nearby


class Action(StrEnum):
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    ARRIVE = "arrive"
    HANDLE = "handle"
    VERIFY = "verify"
    CLOSE = "close"
    RETURN = "return"
    REOPEN = "reopen"
    CANCEL = "cancel"
    EXPIRE = "expire"  # nobody accepted in time: back to the operator queue (rules only)
    REWORK = "rework"  # verification found it not fixed: back to the same squad
    LINK = "link"  # merge into another clue as its duplicate
    UNLINK = "unlink"  # split a duplicate off again; it is then dispatched on its own
    RELOCATE = "relocate"  # an operator fixes the position; the clue is routed again at once


S, A = State, Action

TRANSITIONS: dict[tuple[State, Action], State] = {
    (S.RECEIVED, A.DISPATCH): S.DISPATCHED,
    (S.RETURNED, A.DISPATCH): S.DISPATCHED,
    (S.REOPENED, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.DISPATCH): S.DISPATCHED,  # an operator's override to another squad
    (S.DISPATCHED, A.ACCEPT): S.ACCEPTED,
    (S.ACCEPTED, A.ARRIVE): S.ON_SCENE,
    (S.ON_SCENE, A.HANDLE): S.HANDLED,
    (S.HANDLED, A.VERIFY): S.VERIFIED,
    (S.VERIFIED, A.CLOSE): S.CLOSED,
    (S.DISPATCHED, A.RETURN): S.RETURNED,
    (S.ACCEPTED, A.RETURN): S.RETURNED,
    (S.ON_SCENE, A.RETURN): S.RETURNED,
    (S.HANDLED, A.REOPEN): S.REOPENED,
    (S.VERIFIED, A.REOPEN): S.REOPENED,
    (S.CLOSED, A.REOPEN): S.REOPENED,
    (S.DISPATCHED, A.EXPIRE): S.RECEIVED,
    (S.HANDLED, A.REWORK): S.DISPATCHED,
    (S.RECEIVED, A.LINK): S.DUPLICATE,
    (S.DISPATCHED, A.LINK): S.DUPLICATE,
    (S.RETURNED, A.LINK): S.DUPLICATE,
    (S.DUPLICATE, A.UNLINK): S.RECEIVED,
    # A waiting clue gets its position fixed; it stays waiting only when the new routing
    # finds no squad (it is dispatched otherwise, like UNLINK).
    (S.RECEIVED, A.RELOCATE): S.RECEIVED,
    (S.RETURNED, A.RELOCATE): S.RETURNED,
    (S.REOPENED, A.RELOCATE): S.REOPENED,
    **{
        (state, A.CANCEL): S.CANCELLED
        for state in (
            S.RECEIVED,
            S.DISPATCHED,
            S.ACCEPTED,
            S.ON_SCENE,
            S.HANDLED,
            S.VERIFIED,
            S.RETURNED,
            S.REOPENED,
        )
    },
}

# Open311 groups: everything not closed or cancelled is "open" (a duplicate shows the
# status of the clue it is linked to).
CLOSED_STATES = frozenset({S.CLOSED, S.CANCELLED})
# No work is owed on these: they are never candidates for duplicate linking or workload.
WORK_DONE_STATES = frozenset({S.CLOSED, S.CANCELLED, S.DUPLICATE})
# Actions a squad takes on its own assignment.
SQUAD_ACTIONS = frozenset({A.ACCEPT, A.ARRIVE, A.HANDLE, A.RETURN})

ALLOWED_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.SQUAD: SQUAD_ACTIONS,
    Role.GRID_WORKER: frozenset({A.VERIFY, A.REWORK}),
    Role.OPERATOR: frozenset(
        {
            A.DISPATCH,
            A.VERIFY,
            A.REWORK,
            A.CLOSE,
            A.REOPEN,
            A.CANCEL,
            A.LINK,
            A.UNLINK,
            A.RELOCATE,
        }
    ),
    Role.SUPERVISOR: frozenset({A.REOPEN, A.CANCEL}),
    Role.ADMIN: frozenset(Action) - {A.EXPIRE},
    Role.RESIDENT: frozenset(),
    Role.SYSTEM: frozenset(Action),
    Role.DEVICE: frozenset(),
}

# Actions whose reason must be written down.
NOTE_REQUIRED = frozenset({A.RETURN, A.REOPEN, A.CANCEL, A.LINK, A.UNLINK, A.REWORK, A.RELOCATE})


def next_state(current: State, action: Action) -> State:
    """The state after `action`; IllegalTransition names the current state if not allowed."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s is current)
        hint = f"; allowed now: {', '.join(allowed)}" if allowed else "; no action is allowed now"
        raise IllegalTransition(
            f"cannot {action.value} a clue that is {current.value}{hint}"
        ) from None


def check_role_may(role: Role, action: Action) -> None:
    """Raise Forbidden when `role` may never take `action`."""
    if action not in ALLOWED_ACTIONS[role]:
        raise Forbidden(f"the {role.value} role may not {action.value} a clue")


def public_status(state: State) -> str:
    """Open311 `status`: open or closed."""
    return "closed" if state in CLOSED_STATES else "open"


class Channel(StrEnum):
    """Where a clue came from."""

    OPEN311 = "open311"
    GRID = "grid"
    HOTLINE = "hotline"
    IOT = "iot"
    VIDEO = "video"
    MINIPROGRAM = "miniprogram"


MAX_DESCRIPTION = 4000


@dataclass(frozen=True, slots=True)
class Submission:
    """A clue as it arrives, position already converted to WGS84."""

    channel: Channel
    matter_code: str
    lon: float
    lat: float
    submitted_crs: str
    description: str = ""
    media_url: str | None = None
    reporter_email: str | None = None
    reporter_phone: str | None = None
    reporter_name: str | None = None
    device_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    address: str | None = None
    location_approximate: bool = False
    source: str | None = None
    external_id: str | None = None
    api_key_id: int | None = None
    tracking_secret_hash: str | None = None


@dataclass(frozen=True, slots=True)
class ClueRecord:
    id: int
    service_request_id: str
    channel: str
    matter_code: str
    matter_name: str
    legal_basis: str
    description: str
    media_url: str | None
    lon: float
    lat: float
    jurisdiction_code: str
    jurisdiction_name: str
    jurisdiction_path: tuple[str, ...]
    department: str
    state: State
    squad_code: str | None
    deadline: datetime | None
    queue_reason: str | None
    status_note: str | None
    created_at: datetime
    updated_at: datetime
    duplicate_of: int | None = None
    report_count: int = 1
    closed_at: datetime | None = None
    rating: int | None = None
    address: str | None = None
    reporter_phone: str | None = None
    assistants: tuple[str, ...] = ()  # squads assisting in joint enforcement
    queue_reason_code: str | None = None  # dispatch.model.WaitReason
    public_hidden: bool = False  # an operator hid it from the public (publicview/)
    public_description: str | None = None  # an operator's text for the public
    progress_code: str | None = None  # opens the progress view (residents/model.py)
    simulated: bool = False  # sent by the demo's simulation (command-center simulate)


@dataclass(frozen=True, slots=True)
class Position:
    """A position as the operator's map gave it: lon/lat in `crs` (wgs84 or gcj02)."""

    lon: float
    lat: float
    crs: str = "wgs84"

    def wgs84(self) -> tuple[float, float]:
        """(lon, lat) in WGS84; InvalidInput names a bad coordinate or CRS."""
        try:
            return to_wgs84(self.lon, self.lat, self.crs)
        except CoordinateError as exc:
            raise InvalidInput(str(exc)) from None
