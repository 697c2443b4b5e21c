"""The generated history the statistics tests check against: November 2025, two
departments, every case the definitions distinguish. The expected figures are worked
out by hand in the tests, from the steps below."""

from __future__ import annotations

from command_center.db.session import Database
from tests.history import History, SimClue

CITY, LIANDU, QINGTIAN = "331100", "331102", "331121"
ENFORCEMENT, ECOLOGY = "综合行政执法局", "生态环境局"
WEEK, MONTH = "2025-W47", "2025-11"  # 17–23 and 1–30 November 2025


async def build(database: Database) -> dict[str, SimClue]:
    h = History(database)
    ld = {"path": (CITY, LIANDU), "lon": 119.8218, "lat": 28.4719}
    qt = {"path": (CITY, QINGTIAN), "lon": 120.1547, "lat": 28.2108}
    a = {"matter": "CG-001", "department": ENFORCEMENT}
    b = {"matter": "HB-001", "department": ECOLOGY}
    c: dict[str, SimClue] = {}

    # A1: on time, rated 5.
    c["A1"] = (await h.clue("2025-11-18 09:00", **a, **ld)).dispatch(
        "2025-11-18 09:00", squad="LD-01", deadline="2025-11-18 11:00"
    )
    c["A1"].accept("2025-11-18 09:05").arrive("2025-11-18 09:20").handle("2025-11-18 10:00")
    c["A1"].verify("2025-11-18 10:30").close("2025-11-18 11:30").rate("2025-11-18 12:00", 5)
    # A2: queued 6 minutes, then handled after its deadline; rated 3.
    c["A2"] = (await h.clue("2025-11-18 10:00", **a, **ld)).dispatch(
        "2025-11-18 10:06", squad="LD-01", deadline="2025-11-18 12:06"
    )
    c["A2"].accept("2025-11-18 10:10").arrive("2025-11-18 10:40").handle("2025-11-18 12:30")
    c["A2"].verify("2025-11-18 13:00").close("2025-11-18 13:10").rate("2025-11-18 14:00", 3)
    # A3: returned, dispatched again, handled in time, closed only after the week.
    c["A3"] = (await h.clue("2025-11-19 08:00", **a, **ld)).dispatch(
        "2025-11-19 08:00", squad="LD-02", deadline="2025-11-19 10:00"
    )
    c["A3"].accept("2025-11-19 08:30").give_back("2025-11-19 08:45")
    c["A3"].dispatch("2025-11-19 09:00", squad="LD-01", deadline="2025-11-19 11:00")
    c["A3"].accept("2025-11-19 09:10").arrive("2025-11-19 09:30").handle("2025-11-19 10:30")
    c["A3"].verify("2025-11-25 09:00").close("2025-11-25 10:00")
    # A4: extended by a day, handled before the new deadline.
    c["A4"] = (await h.clue("2025-11-20 08:00", **a, **ld)).dispatch(
        "2025-11-20 08:00", squad="LD-01", deadline="2025-11-20 10:00"
    )
    c["A4"].accept("2025-11-20 08:10").extend("2025-11-20 09:00", deadline="2025-11-21 10:00")
    c["A4"].arrive("2025-11-21 08:00").handle("2025-11-21 09:00")
    c["A4"].verify("2025-11-21 09:20").close("2025-11-21 09:30")
    # A5: sent back for rework, handled again in the fresh time.
    c["A5"] = (await h.clue("2025-11-20 14:00", **a, **ld)).dispatch(
        "2025-11-20 14:00", squad="LD-01", deadline="2025-11-20 16:00"
    )
    c["A5"].accept("2025-11-20 14:10").arrive("2025-11-20 14:30").handle("2025-11-20 15:00")
    c["A5"].dispatch("2025-11-20 15:30", squad="LD-01", deadline="2025-11-20 17:30", rework=True)
    c["A5"].accept("2025-11-20 15:40").arrive("2025-11-20 16:00").handle("2025-11-20 17:00")
    c["A5"].verify("2025-11-20 17:10").close("2025-11-20 17:20")
    # A6: cancelled before its deadline: never due.
    c["A6"] = (await h.clue("2025-11-21 07:00", **a, **ld)).dispatch(
        "2025-11-21 07:00", squad="LD-02", deadline="2025-11-21 09:30"
    )
    c["A6"].cancel("2025-11-21 09:00")
    # A7: deadline after the week ends; never handled (overdue from 24 November).
    c["A7"] = (await h.clue("2025-11-23 20:00", **a, **ld)).dispatch(
        "2025-11-23 20:00", squad="LD-01", deadline="2025-11-24 02:00"
    )
    # A8: on hold past its deadline: not due while on hold.
    c["A8"] = (await h.clue("2025-11-19 10:00", **a, **ld)).dispatch(
        "2025-11-19 10:00", squad="LD-02", deadline="2025-11-19 12:00"
    )
    c["A8"].accept("2025-11-19 10:05").hold("2025-11-19 11:00")
    # A9: closed on time early in the month.
    c["A9"] = (await h.clue("2025-11-10 08:00", **a, **ld)).dispatch(
        "2025-11-10 08:00", squad="LD-01", deadline="2025-11-10 10:00"
    )
    c["A9"].accept("2025-11-10 08:10").arrive("2025-11-10 08:30").handle("2025-11-10 09:00")
    c["A9"].verify("2025-11-10 09:20").close("2025-11-10 09:30")
    # A10: in 青田, on time.
    c["A10"] = (await h.clue("2025-11-17 09:00", **a, **qt)).dispatch(
        "2025-11-17 09:00", squad="QT-01", deadline="2025-11-18 09:00"
    )
    c["A10"].accept("2025-11-17 09:30").arrive("2025-11-17 10:00").handle("2025-11-17 15:00")
    c["A10"].verify("2025-11-17 15:30").close("2025-11-17 16:00")
    # A11: closed, then reopened and dispatched again; not closed since.
    c["A11"] = (await h.clue("2025-11-21 08:00", **a, **ld)).dispatch(
        "2025-11-21 08:00", squad="LD-01", deadline="2025-11-21 10:00"
    )
    c["A11"].accept("2025-11-21 08:10").arrive("2025-11-21 08:30").handle("2025-11-21 09:00")
    c["A11"].verify("2025-11-21 09:10").close("2025-11-21 09:20").reopen("2025-11-21 12:00")
    c["A11"].dispatch("2025-11-21 12:00", squad="LD-01", deadline="2025-11-21 14:00")
    # A12: a repeated report, merged: received but never due.
    c["A12"] = (await h.clue("2025-11-18 09:30", **a, **ld)).link("2025-11-18 09:30", c["A1"])

    # B1: on time, rated 4; accepted after an hour.
    c["B1"] = (await h.clue("2025-11-18 09:00", **b, **ld)).dispatch(
        "2025-11-18 09:00", squad="CITY-HB-01", deadline="2025-11-19 09:00"
    )
    c["B1"].accept("2025-11-18 10:00").arrive("2025-11-18 12:00").handle("2025-11-18 18:00")
    c["B1"].verify("2025-11-18 18:30").close("2025-11-18 19:00").rate("2025-11-18 20:00", 4)
    # B2: accepted after two hours, never on scene: overdue since 20 November.
    c["B2"] = (await h.clue("2025-11-19 09:00", **b, **ld)).dispatch(
        "2025-11-19 09:00", squad="CITY-HB-01", deadline="2025-11-20 09:00"
    )
    c["B2"].accept("2025-11-19 11:00")
    await h.write()
    return c
