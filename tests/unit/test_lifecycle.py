"""The clue life cycle as a table: every legal step, and illegal ones refused by name."""

import pytest

from command_center.auth.model import Role
from command_center.clues.model import (
    TRANSITIONS,
    Action,
    State,
    check_role_may,
    next_state,
    public_status,
)
from command_center.errors import Forbidden, IllegalTransition, http_status

HAPPY_PATH = [
    (State.RECEIVED, Action.DISPATCH, State.DISPATCHED),
    (State.DISPATCHED, Action.ACCEPT, State.ACCEPTED),
    (State.ACCEPTED, Action.ARRIVE, State.ON_SCENE),
    (State.ON_SCENE, Action.HANDLE, State.HANDLED),
    (State.HANDLED, Action.VERIFY, State.VERIFIED),
    (State.VERIFIED, Action.CLOSE, State.CLOSED),
]


@pytest.mark.parametrize(("current", "action", "expected"), HAPPY_PATH)
def test_the_seven_step_loop_goes_through(current: State, action: Action, expected: State) -> None:
    assert next_state(current, action) is expected


def test_a_closed_clue_can_only_be_reopened() -> None:
    with pytest.raises(IllegalTransition) as caught:
        next_state(State.CLOSED, Action.ACCEPT)
    assert "closed" in caught.value.message
    assert "allowed now: reopen" in caught.value.message
    assert http_status(caught.value) == 409


def test_a_cancelled_clue_is_final() -> None:
    assert not [a for (s, a) in TRANSITIONS if s is State.CANCELLED]
    with pytest.raises(IllegalTransition, match="no action is allowed now"):
        next_state(State.CANCELLED, Action.REOPEN)


def test_handling_cannot_skip_arrival() -> None:
    with pytest.raises(IllegalTransition, match="cannot handle a clue that is accepted"):
        next_state(State.ACCEPTED, Action.HANDLE)


@pytest.mark.parametrize("state", [State.DISPATCHED, State.ACCEPTED, State.ON_SCENE])
def test_a_squad_may_return_what_it_holds(state: State) -> None:
    assert next_state(state, Action.RETURN) is State.RETURNED


def test_returned_and_reopened_clues_can_be_dispatched_again() -> None:
    assert next_state(State.RETURNED, Action.DISPATCH) is State.DISPATCHED
    assert next_state(State.REOPENED, Action.DISPATCH) is State.DISPATCHED


def test_every_state_is_reachable_from_received() -> None:
    reached, frontier = {State.RECEIVED}, [State.RECEIVED]
    while frontier:
        current = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is current and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(State)


def test_open311_status_groups_states() -> None:
    assert public_status(State.CLOSED) == "closed"
    assert public_status(State.CANCELLED) == "closed"
    assert {public_status(s) for s in State if s not in {State.CLOSED, State.CANCELLED}} == {"open"}


def test_roles_take_only_their_own_actions() -> None:
    check_role_may(Role.SQUAD, Action.ACCEPT)
    check_role_may(Role.GRID_WORKER, Action.VERIFY)
    check_role_may(Role.OPERATOR, Action.CLOSE)
    with pytest.raises(Forbidden, match="squad role may not close"):
        check_role_may(Role.SQUAD, Action.CLOSE)
    with pytest.raises(Forbidden):
        check_role_may(Role.GRID_WORKER, Action.ACCEPT)
    with pytest.raises(Forbidden):
        check_role_may(Role.RESIDENT, Action.REOPEN)
