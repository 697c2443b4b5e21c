"""The Administrative Penalty Law's rules, one test per article. No I/O."""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from command_center.cases import law, standards
from command_center.cases.identity import (
    credit_code_valid,
    id_number_valid,
    mask_id_number,
    mask_name,
)
from command_center.cases.law import Kind, LawRefuses, PartyKind, Penalty
from command_center.cases.model import Action, Procedure, State, next_state, permission
from command_center.dispatch.calendar import WorkCalendar
from command_center.errors import IllegalTransition, ImportRefused

CALENDAR = WorkCalendar(zone=ZoneInfo("Asia/Shanghai"))
FRIDAY = date(2026, 11, 27)


def fine(amount: int) -> Penalty:
    return Penalty(Kind.FINE, Decimal(amount))


def test_art_51_summary_limits() -> None:
    law.check_summary(fine(200), PartyKind.PERSON)
    law.check_summary(fine(3000), PartyKind.ENTITY)
    law.check_summary(Penalty(Kind.WARNING), PartyKind.PERSON)
    with pytest.raises(LawRefuses, match=r"Art\. 51"):
        law.check_summary(fine(201), PartyKind.PERSON)
    with pytest.raises(LawRefuses, match=r"Art\. 51"):
        law.check_summary(Penalty(Kind.CLOSURE), PartyKind.ENTITY)
    law.check_summary(fine(500), PartyKind.PERSON, matter_limit=Decimal(500))


def test_art_36_limitation() -> None:
    law.check_limitation(date(2024, 12, 4), date(2026, 12, 4))
    with pytest.raises(LawRefuses, match=r"Art\. 36"):
        law.check_limitation(date(2024, 12, 3), date(2026, 12, 4))
    law.check_limitation(date(2022, 12, 4), date(2026, 12, 4), serious_harm=True)
    with pytest.raises(LawRefuses, match=r"Art\. 36"):
        law.check_limitation(date(2021, 12, 3), date(2026, 12, 4), serious_harm=True)


def test_art_58_review_required() -> None:
    flags = dict(major_public_interest=False, heard=False, complex_case=False, matter_flagged=False)
    assert not law.review_required(**flags)
    for name in flags:
        assert law.review_required(**{**flags, name: True})
    with pytest.raises(LawRefuses, match=r"Art\. 58"):
        law.check_decision(review_needed=True, reviewed=False)


def test_art_63_hearing_eligible() -> None:
    assert law.hearing_eligible(Penalty(Kind.LICENCE_REVOCATION), PartyKind.PERSON)
    assert law.hearing_eligible(fine(10000), PartyKind.PERSON)
    assert not law.hearing_eligible(fine(10000), PartyKind.ENTITY)
    assert not law.hearing_eligible(Penalty(Kind.WARNING), PartyKind.ENTITY)


def test_art_64_hearing_request_and_notice_in_working_days() -> None:
    # notified Friday: Mon..Fri next week are the 5 working days
    assert law.hearing_request_deadline(CALENDAR, FRIDAY) == date(2026, 12, 4)
    law.check_hearing_request(CALENDAR, FRIDAY, date(2026, 12, 4))
    with pytest.raises(LawRefuses, match=r"Art\. 64"):
        law.check_hearing_request(CALENDAR, FRIDAY, date(2026, 12, 7))
    with pytest.raises(LawRefuses, match=r"Art\. 64"):
        law.check_hearing_notice(CALENDAR, FRIDAY, date(2026, 12, 7))
    law.check_hearing_notice(CALENDAR, FRIDAY, date(2026, 12, 8))


def test_art_85_a_holiday_is_not_a_working_day() -> None:
    holiday = WorkCalendar(zone=CALENDAR.zone, holidays=frozenset({date(2026, 11, 30)}))
    assert law.period_end(holiday, FRIDAY, 2) == date(2026, 12, 2)
    assert law.period_end(CALENDAR, FRIDAY, 15) == date(2026, 12, 12)  # calendar days


def test_art_60_decision_within_90_days() -> None:
    assert law.decision_due(date(2026, 1, 1)) == date(2026, 4, 1)


def test_art_61_service_within_7_working_days() -> None:
    assert law.service_due(CALENDAR, FRIDAY) == date(2026, 12, 8)


def test_art_67_payment_15_days_from_service() -> None:
    assert law.payment_due(date(2026, 12, 1)) == date(2026, 12, 16)


def test_art_72_surcharge_capped_and_art_73_paused() -> None:
    due = date(2026, 12, 16)
    assert law.surcharge(Decimal(1000), due, date(2026, 12, 18)) == Decimal("60.00")
    assert law.surcharge(Decimal(1000), due, date(2027, 3, 1)) == Decimal(1000)
    paused = [(date(2026, 12, 17), date(2026, 12, 17))]
    assert law.surcharge(Decimal(1000), due, date(2026, 12, 18), paused) == Decimal("30.00")


def test_coercion_law_art_25_seizure() -> None:
    assert law.seizure_ends(date(2026, 12, 1)) == date(2026, 12, 31)
    assert law.seizure_ends(date(2026, 12, 1), extension_days=30, testing_days=5) == date(
        2027, 2, 4
    )
    with pytest.raises(LawRefuses, match=r"Art\. 25"):
        law.seizure_ends(date(2026, 12, 1), extension_days=31)


def test_check_digits_and_masking() -> None:
    assert id_number_valid("11010519491231002X")
    assert not id_number_valid("110105194912310021")
    assert credit_code_valid("91350100M000100Y43")
    assert not credit_code_valid("91350100M000100Y44")
    assert mask_id_number("11010519491231002X") == "1101************2X"
    assert mask_name("张三") == "张某某"


def test_document_number() -> None:
    assert law.document_number("丽综执", "罚决", 2026, 12) == "丽综执罚决字〔2026〕第12号"


def test_transition_table_and_permissions() -> None:
    g = Procedure.GENERAL
    state = State.OPENED
    for action in (
        "register",
        "investigate",
        "propose",
        "review",
        "notify",
        "decide",
        "serve",
        "pay",
        "close",
    ):
        state = next_state(g, state, Action(action))
    assert state is State.CLOSED
    with pytest.raises(IllegalTransition, match="registered"):
        next_state(g, State.REGISTERED, Action.DECIDE)  # a decision before notice
    assert next_state(Procedure.SUMMARY, State.OPENED, Action.DECIDE) is State.DECIDED
    assert permission(g, Action.REVIEW) == "case.review"
    assert permission(g, Action.DECIDE) == "case.decide"
    assert permission(Procedure.SUMMARY, Action.DECIDE) == "case.investigate"


def test_the_standard_in_force_on_the_violation_day_and_a_fine_outside_it() -> None:
    old = law.Standard("一般", date(2020, 1, 1), Decimal(100), Decimal(500))
    new = law.Standard("一般", date(2026, 7, 1), Decimal(200), Decimal(1000))
    assert law.standard_in_force([old, new], "一般", date(2026, 6, 30)) is old
    assert law.standard_in_force([old, new], "一般", date(2026, 7, 1)) is new
    with pytest.raises(LawRefuses, match="discretion standard"):
        law.standard_in_force([old, new], "严重", date(2026, 7, 1))
    assert not law.check_proposal(new, fine(500), None)
    with pytest.raises(LawRefuses, match="written reason"):
        law.check_proposal(new, fine(1500), None)
    assert law.check_proposal(new, fine(1500), "repeat offence, third case this year")


def test_the_penalties_file_reads_chinese_kinds_and_names_each_bad_column() -> None:
    header = ",".join(standards.COLUMNS) + "\n"
    good = "CG-005,《固废法》第一百一十一条,一般,200,350,罚款、没收违法所得,否,否,是,2024-01-01\n"
    [(line, row)] = standards.parse_penalties((header + good).encode(), xlsx=False)
    assert line == 2
    assert row.kinds == (Kind.FINE, Kind.CONFISCATION)
    assert (row.basis.law, row.basis.article) == ("《固废法》", "第一百一十一条")
    assert (row.review_required, row.first_offence_exempt) == (False, True)
    with pytest.raises(ImportRefused) as caught:
        standards.parse_penalties((header + good.replace(",否,否,", ",否,x,")).encode(), xlsx=False)
    assert "line 2: collective must be true or false, not 'x'" in caught.value.message
    with pytest.raises(ImportRefused, match="fine_min/fine_max are given but kinds has no fine"):
        standards.parse_penalties((header + good.replace("罚款、", "")).encode(), xlsx=False)
    with pytest.raises(ImportRefused, match="not UTF-8"):
        standards.parse_penalties((header + good).encode("gb18030"), xlsx=False)


def test_a_proposal_of_a_kind_the_standard_does_not_allow_is_refused() -> None:
    standard = law.Standard("一般", date(2024, 1, 1), kinds=frozenset({Kind.WARNING}))
    assert law.check_proposal(standard, law.Penalty(Kind.WARNING), None) is False
    with pytest.raises(LawRefuses, match=r"Art\. 34: .* allows warning, not fine"):
        law.check_proposal(standard, fine(100), "any reason")


def test_an_xlsx_sheet_is_read_by_its_row_numbers() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([*standards.COLUMNS, None])  # an empty trailing header cell
    sheet.append(["CG-001", "《条例》第三十六条", "一般", 50, 200.0, "fine", False, False, False,
                  datetime(2024, 1, 1)])  # fmt: skip
    sheet.append([None] * 10)  # an empty row keeps its number
    sheet.append(["CG-001", "《条例》第三十六条", "严重", 50, 200, "fine", "no", "no", "no",
                  "2024-13-01"])  # fmt: skip
    data = io.BytesIO()
    book.save(data)
    with pytest.raises(ImportRefused) as caught:
        standards.parse_penalties(data.getvalue(), xlsx=True)
    assert caught.value.message == (
        "nothing was imported:\nline 4: effective_from '2024-13-01' is not a day (YYYY-MM-DD)"
    )
    with pytest.raises(ImportRefused, match="not an XLSX workbook"):
        standards.parse_penalties(b"PK\x03\x04 not really", xlsx=True)
