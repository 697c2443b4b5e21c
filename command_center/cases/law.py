"""The Administrative Penalty Law (2021) and Administrative Coercion Law as data and pure
rules. No I/O. A refusal raises LawRefuses, whose message names the article.

Day counts follow Art. 85: the 2-, 3-, 5- and 7-day periods are working days on the
project's working calendar (command_center.dispatch.calendar); the others are calendar days.
The day an event happens is not counted (the period starts the next day).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from command_center.dispatch.calendar import MAX_DAYS, WorkCalendar
from command_center.errors import InvalidInput


class LawRefuses(InvalidInput):
    code = "refused_by_law"


class Kind(StrEnum):
    """The penalty kinds of Art. 9."""

    WARNING = "warning"
    CRITICISM = "criticism"  # 通报批评
    FINE = "fine"
    CONFISCATION = "confiscation"  # 没收违法所得、非法财物
    LICENCE_SUSPENSION = "licence_suspension"
    QUALIFICATION_DOWNGRADE = "qualification_downgrade"
    LICENCE_REVOCATION = "licence_revocation"
    BUSINESS_RESTRICTION = "business_restriction"
    SUSPENSION_OF_BUSINESS = "suspension_of_business"  # 责令停产停业
    CLOSURE = "closure"  # 责令关闭
    PRACTICE_RESTRICTION = "practice_restriction"  # 限制从业


class PartyKind(StrEnum):
    PERSON = "person"
    ENTITY = "entity"


WORKING_DAY_PERIODS = frozenset({2, 3, 5, 7})  # Art. 85
SUMMARY_FINE_LIMIT = {PartyKind.PERSON: Decimal(200), PartyKind.ENTITY: Decimal(3000)}  # Art. 51
LIMITATION_YEARS = 2  # Art. 36
LIMITATION_YEARS_SERIOUS = 5  # Art. 36: life, health or financial safety, and harm done
DECISION_DAYS = 90  # Art. 60, from registration
SERVICE_WORKING_DAYS = 7  # Art. 61
HEARING_REQUEST_WORKING_DAYS = 5  # Art. 64 (1)
HEARING_NOTICE_WORKING_DAYS = 7  # Art. 64 (2)
PAYMENT_DAYS = 15  # Art. 67, from service
SURCHARGE_RATE = Decimal("0.03")  # Art. 72, per day, capped at the fine
SEIZURE_DAYS = 30  # Coercion Law Art. 25
SEIZURE_EXTENSION_MAX_DAYS = 30  # Coercion Law Art. 25, once, with the head's approval
# Art. 63 "a fine of a large amount": set by each province; these are defaults, data.
LARGE_FINE = {PartyKind.PERSON: Decimal(10000), PartyKind.ENTITY: Decimal(100000)}
HEARING_KINDS = frozenset(
    {
        Kind.QUALIFICATION_DOWNGRADE,
        Kind.LICENCE_REVOCATION,
        Kind.SUSPENSION_OF_BUSINESS,
        Kind.CLOSURE,
        Kind.PRACTICE_RESTRICTION,
    }
)


@dataclass(frozen=True, slots=True)
class Penalty:
    kind: Kind
    amount: Decimal | None = None  # yuan: the fine, or the value confiscated


def add_working_days(calendar: WorkCalendar, start: date, days: int) -> date:
    """The `days`-th working day after `start` (Art. 85: the start day is not counted)."""
    day = start
    for _ in range(MAX_DAYS):
        if days == 0:
            return day
        day += timedelta(days=1)
        if calendar.is_workday(day):
            days -= 1
    raise ValueError(f"{days} working days do not fit in {MAX_DAYS} days")


def period_end(calendar: WorkCalendar, start: date, days: int) -> date:
    """The last day of a period of `days` days from `start`, in working days where Art. 85 says."""
    if days in WORKING_DAY_PERIODS:
        return add_working_days(calendar, start, days)
    return start + timedelta(days=days)


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_limitation(violation_end: date, found: date, *, serious_harm: bool = False) -> None:
    """Art. 36: no penalty for a violation not found within 2 years (5 where life, health or
    financial safety is concerned and harm was done), counted from the day a continuing
    violation ended."""
    years = LIMITATION_YEARS_SERIOUS if serious_harm else LIMITATION_YEARS
    if found > _plus_years(violation_end, years):
        raise LawRefuses(
            f"Art. 36: the violation ended on {violation_end} and was not found within "
            f"{years} years; it can no longer be punished"
        )


def check_summary(penalty: Penalty, party: PartyKind, matter_limit: Decimal | None = None) -> None:
    """Art. 51: the summary procedure only for a warning or a fine of at most 200 yuan for a
    person and 3,000 yuan for an entity (or the matter's own limit where its law says so)."""
    if penalty.kind is Kind.WARNING:
        return
    limit = SUMMARY_FINE_LIMIT[party] if matter_limit is None else matter_limit
    if penalty.kind is not Kind.FINE:
        raise LawRefuses(
            f"Art. 51: the summary procedure allows a warning or a fine, not {penalty.kind}"
        )
    if penalty.amount is None or penalty.amount > limit:
        raise LawRefuses(
            f"Art. 51: the summary procedure allows a fine of at most {limit} yuan for "
            f"{'a person' if party is PartyKind.PERSON else 'an entity'}; use the general procedure"
        )


def review_required(
    *, major_public_interest: bool, heard: bool, complex_case: bool, matter_flagged: bool
) -> bool:
    """Art. 58: legal review before a decision in these four cases."""
    return major_public_interest or heard or complex_case or matter_flagged


def check_decision(*, review_needed: bool, reviewed: bool) -> None:
    if review_needed and not reviewed:
        raise LawRefuses("Art. 58: this decision needs the legal review (法制审核) first")


def hearing_eligible(penalty: Penalty, party: PartyKind) -> bool:
    """Art. 63: a large fine or confiscation, downgrade or revocation, suspension or closure,
    a practice restriction."""
    if penalty.kind in HEARING_KINDS:
        return True
    if penalty.kind in (Kind.FINE, Kind.CONFISCATION):
        return penalty.amount is not None and penalty.amount >= LARGE_FINE[party]
    return False


def hearing_request_deadline(calendar: WorkCalendar, notified: date) -> date:
    return add_working_days(calendar, notified, HEARING_REQUEST_WORKING_DAYS)


def check_hearing_request(calendar: WorkCalendar, notified: date, requested: date) -> None:
    """Art. 64 (1): a hearing is asked within 5 working days of the notice."""
    last = hearing_request_deadline(calendar, notified)
    if requested > last:
        raise LawRefuses(
            f"Art. 64: a hearing must be requested within 5 working days of the notice (by {last})"
        )


def check_hearing_notice(calendar: WorkCalendar, notice: date, hearing: date) -> None:
    """Art. 64 (2): the party is told of the hearing's time and place 7 working days ahead."""
    earliest = add_working_days(calendar, notice, HEARING_NOTICE_WORKING_DAYS)
    if hearing < earliest:
        raise LawRefuses(
            "Art. 64: the hearing notice must be given 7 working days ahead "
            f"(hearing on {earliest} or later)"
        )


def decision_due(registered: date) -> date:
    """Art. 60: the decision within 90 days of registration."""
    return registered + timedelta(days=DECISION_DAYS)


def service_due(calendar: WorkCalendar, decided: date) -> date:
    """Art. 61: served within 7 working days where the party is not present."""
    return add_working_days(calendar, decided, SERVICE_WORKING_DAYS)


def payment_due(served: date) -> date:
    """Art. 67: payment within 15 days of service."""
    return served + timedelta(days=PAYMENT_DAYS)


def surcharge(
    fine: Decimal, due: date, paid: date, paused: Iterable[tuple[date, date]] = ()
) -> Decimal:
    """Art. 72: 3 % of the fine per day late, at most the fine. Art. 73: the days of a
    reconsideration or a lawsuit (inclusive ranges in `paused`) are not counted."""
    late = {due + timedelta(days=n) for n in range(1, (paid - due).days + 1)}
    for first, last in paused:
        late -= {first + timedelta(days=n) for n in range((last - first).days + 1)}
    amount = (fine * SURCHARGE_RATE * len(late)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return min(amount, fine)


def seizure_ends(started: date, *, extension_days: int = 0, testing_days: int = 0) -> date:
    """Coercion Law Art. 25: 30 days, one extension of at most 30 with the head's approval;
    the time of testing or appraisal is not counted."""
    if not 0 <= extension_days <= SEIZURE_EXTENSION_MAX_DAYS:
        raise LawRefuses("Coercion Law Art. 25: a seizure is extended once, by at most 30 days")
    return started + timedelta(days=SEIZURE_DAYS + extension_days + testing_days)


def document_number(body: str, kind: str, year: int, sequence: int) -> str:
    """丽综执罚决字〔2026〕第12号: per body, kind and year."""
    return f"{body}{kind}字〔{year}〕第{sequence}号"


@dataclass(frozen=True, slots=True)
class Standard:
    """One circumstance of a matter's discretion standard (裁量基准), in force from a day."""

    circumstance: str
    effective_from: date
    fine_min: Decimal | None = None
    fine_max: Decimal | None = None
    kinds: frozenset[Kind] = frozenset()  # the kinds it allows; empty: not limited
    review_required: bool = False  # Art. 58 item 4: the catalogue flags it for legal review
    collective: bool = False  # Art. 57: decided collectively by the body's heads
    first_offence_exempt: bool = False  # Art. 33: a first, minor, promptly corrected offence
    basis: str = ""  # the law and article, 《…》第…条


def standard_in_force(
    standards: Iterable[Standard], circumstance: str, violation: date
) -> Standard:
    """The version of `circumstance` in force on the day of the violation."""
    versions = [
        s for s in standards if s.circumstance == circumstance and s.effective_from <= violation
    ]
    if not versions:
        raise LawRefuses(
            f"no discretion standard for the circumstance {circumstance!r} "
            f"was in force on {violation}"
        )
    return max(versions, key=lambda s: s.effective_from)


def check_proposal(standard: Standard, penalty: Penalty, reason: str | None) -> bool:
    """A kind the standard does not allow is refused; a proposed fine outside the standard's
    range needs a written reason. True when the fine lies outside the range (the case then
    carries the "fine outside the standard" warning)."""
    if standard.kinds and penalty.kind not in standard.kinds:
        allowed = ", ".join(sorted(standard.kinds))
        raise LawRefuses(
            f"Art. 34: the discretion standard for {standard.circumstance!r} allows {allowed}, "
            f"not {penalty.kind}"
        )
    if penalty.kind is not Kind.FINE or penalty.amount is None:
        return False
    low, high = standard.fine_min, standard.fine_max
    outside = (low is not None and penalty.amount < low) or (
        high is not None and penalty.amount > high
    )
    if outside and not (reason and reason.strip()):
        raise LawRefuses(
            f"a fine of {penalty.amount} yuan lies outside the discretion standard "
            f"({low}–{high} yuan): give the written reason"
        )
    return outside
