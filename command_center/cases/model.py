"""The case life cycle as a table: state × action → next state, and the permission each
action needs. No I/O; an illegal step raises IllegalTransition naming the current state.

General procedure (Art. 54–65): register, investigate, propose, review, notify, hearing,
decide, serve, pay or enforce, close. Summary procedure (Art. 51–52): decided on the spot.
"""

from __future__ import annotations

from enum import StrEnum

from command_center.errors import IllegalTransition


class Procedure(StrEnum):
    SUMMARY = "summary"
    GENERAL = "general"


class State(StrEnum):
    OPENED = "opened"
    REGISTERED = "registered"
    INVESTIGATING = "investigating"
    PROPOSED = "proposed"
    REVIEWED = "reviewed"
    NOTIFIED = "notified"
    HEARING_REQUESTED = "hearing_requested"
    HEARD = "heard"
    DECIDED = "decided"
    SERVED = "served"
    PAID = "paid"
    ENFORCED = "enforced"
    NOT_PUNISHED = "not_punished"
    TRANSFERRED = "transferred"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


class Action(StrEnum):
    REGISTER = "register"
    INVESTIGATE = "investigate"
    PROPOSE = "propose"
    REVIEW = "review"
    NOTIFY = "notify"
    REQUEST_HEARING = "request_hearing"
    HEAR = "hear"
    DECIDE = "decide"
    SERVE = "serve"
    PAY = "pay"
    ENFORCE = "enforce"
    CLOSE = "close"
    NO_PENALTY = "no_penalty"
    TRANSFER = "transfer"
    WITHDRAW = "withdraw"


S, A = State, Action

# Who may take each action: squad members investigate, propose, notify and serve; a
# legal_reviewer (法制审核) reviews; the body's head (负责人) registers, decides and closes.
PERMISSIONS: dict[Action, str] = {
    A.REGISTER: "case.register",
    A.INVESTIGATE: "case.investigate",
    A.PROPOSE: "case.investigate",
    A.REVIEW: "case.review",
    A.NOTIFY: "case.investigate",
    A.REQUEST_HEARING: "case.investigate",  # the party's request, recorded by the squad
    A.HEAR: "case.hear",
    A.DECIDE: "case.decide",
    A.SERVE: "case.investigate",
    A.PAY: "case.pay",
    A.ENFORCE: "case.decide",
    A.CLOSE: "case.decide",
    A.NO_PENALTY: "case.decide",
    A.TRANSFER: "case.decide",
    A.WITHDRAW: "case.decide",
}
SUMMARY_DECIDE_PERMISSION = "case.investigate"  # the officer on the spot (Art. 52)

_BEFORE_DECISION = (
    S.REGISTERED,
    S.INVESTIGATING,
    S.PROPOSED,
    S.REVIEWED,
    S.NOTIFIED,
    S.HEARING_REQUESTED,
    S.HEARD,
)

GENERAL: dict[tuple[State, Action], State] = {
    (S.OPENED, A.REGISTER): S.REGISTERED,
    (S.REGISTERED, A.INVESTIGATE): S.INVESTIGATING,
    (S.INVESTIGATING, A.INVESTIGATE): S.INVESTIGATING,  # more evidence, more records
    (S.INVESTIGATING, A.PROPOSE): S.PROPOSED,
    (S.PROPOSED, A.REVIEW): S.REVIEWED,
    (S.PROPOSED, A.NOTIFY): S.NOTIFIED,  # only where Art. 58 asks no review (law.py)
    (S.REVIEWED, A.NOTIFY): S.NOTIFIED,
    (S.NOTIFIED, A.REQUEST_HEARING): S.HEARING_REQUESTED,
    (S.HEARING_REQUESTED, A.HEAR): S.HEARD,
    (S.HEARD, A.REVIEW): S.HEARD,  # a heard case is reviewed again (Art. 58 item 2)
    (S.NOTIFIED, A.DECIDE): S.DECIDED,
    (S.HEARD, A.DECIDE): S.DECIDED,
    (S.DECIDED, A.SERVE): S.SERVED,
    (S.SERVED, A.PAY): S.PAID,
    (S.SERVED, A.ENFORCE): S.ENFORCED,
    (S.PAID, A.CLOSE): S.CLOSED,
    (S.ENFORCED, A.CLOSE): S.CLOSED,
    (S.NOT_PUNISHED, A.CLOSE): S.CLOSED,
    (S.TRANSFERRED, A.CLOSE): S.CLOSED,
    (S.OPENED, A.WITHDRAW): S.WITHDRAWN,
    **{(state, A.NO_PENALTY): S.NOT_PUNISHED for state in _BEFORE_DECISION[1:]},
    **{(state, A.TRANSFER): S.TRANSFERRED for state in _BEFORE_DECISION},
    **{(state, A.WITHDRAW): S.WITHDRAWN for state in _BEFORE_DECISION},
}

SUMMARY: dict[tuple[State, Action], State] = {
    (S.OPENED, A.DECIDE): S.DECIDED,
    (S.DECIDED, A.SERVE): S.SERVED,  # the decision handed over on the spot
    (S.SERVED, A.PAY): S.PAID,
    (S.SERVED, A.ENFORCE): S.ENFORCED,
    (S.PAID, A.CLOSE): S.CLOSED,
    (S.ENFORCED, A.CLOSE): S.CLOSED,
    (S.OPENED, A.WITHDRAW): S.WITHDRAWN,
}


def permission(procedure: Procedure, action: Action) -> str:
    if procedure is Procedure.SUMMARY and action is A.DECIDE:
        return SUMMARY_DECIDE_PERMISSION
    return PERMISSIONS[action]


def next_state(procedure: Procedure, state: State, action: Action) -> State:
    table = SUMMARY if procedure is Procedure.SUMMARY else GENERAL
    try:
        return table[(state, action)]
    except KeyError:
        raise IllegalTransition(
            f"a {procedure} case in state {state} cannot take the action {action}"
        ) from None
