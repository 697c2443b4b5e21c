"""Ranking eligible squads: distance, workload and domains, explained. No I/O."""

from command_center.dispatch.ranking import Candidate, Weights, rank
from command_center.supervision.ladder import Rung, schedule


def squad(
    code: str, km: float, open_clues: int = 0, *, domain: bool = True, eligible: bool = True
) -> Candidate:
    return Candidate(code, eligible, km * 1000, open_clues, domain, live_position=False)


def test_with_equal_workload_distance_decides() -> None:
    ranked = rank([squad("B", 3.0, 2), squad("A", 1.0, 2)], Weights())
    assert [c.squad_code for c in ranked] == ["A", "B"]


def test_a_much_busier_squad_loses_to_a_slightly_farther_one() -> None:
    ranked = rank([squad("NEAR", 1.0, open_clues=5), squad("FAR", 3.0, open_clues=0)], Weights())
    assert ranked[0].squad_code == "FAR"


def test_a_squad_outside_the_matters_domain_is_penalised() -> None:
    ranked = rank([squad("GENERAL", 1.0, domain=False), squad("SPECIAL", 4.0)], Weights())
    assert ranked[0].squad_code == "SPECIAL"


def test_off_duty_and_excluded_squads_are_not_ranked() -> None:
    ranked = rank(
        [squad("OFF", 0.1, eligible=False), squad("MISSED", 0.2), squad("OK", 9.0)],
        Weights(),
        exclude=frozenset({"MISSED"}),
    )
    assert [c.squad_code for c in ranked] == ["OK"]


def test_the_explanation_names_the_inputs() -> None:
    explained = squad("A", 1.5, 1).explain(Weights())
    assert explained == {
        "squad_code": "A",
        "score": 3.5,
        "distance_m": 1500.0,
        "open_clues": 1,
        "handles_domain": True,
        "position": "base",
    }


def test_the_ladder_fires_at_75_100_and_150_percent() -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    due = schedule(dispatched_at=start, deadline=start + timedelta(hours=4), accept_minutes=10)
    assert due[Rung.ACCEPT_TIMEOUT] == start + timedelta(minutes=10)
    assert due[Rung.REMINDER] == start + timedelta(hours=3)
    assert due[Rung.SUPERVISION] == start + timedelta(hours=4)
    assert due[Rung.ESCALATION] == start + timedelta(hours=6)


def test_why_no_squad_was_chosen_has_a_code_beside_the_words() -> None:
    from dataclasses import replace

    from command_center.dispatch.model import EMPTY_ROUTE, WaitReason

    waiting = replace(EMPTY_ROUTE, department="综合行政执法局", jurisdiction_code="331102")
    none_serve = replace(waiting, serving_squads=0)
    off_duty = replace(waiting, serving_squads=2, on_duty_squads=0)
    missed = replace(waiting, serving_squads=2, on_duty_squads=2, excluded=("LD-01", "LD-02"))
    assert none_serve.queue_reason_code is WaitReason.NO_SQUAD_SERVES
    assert off_duty.queue_reason_code is WaitReason.ALL_OFF_DUTY
    assert "off duty" in (off_duty.queue_reason or "")
    assert missed.queue_reason_code is WaitReason.NOT_ACCEPTED
    assert "LD-01, LD-02" in (missed.queue_reason or "")
    assert replace(off_duty, squad_code="LD-01").queue_reason_code is None
