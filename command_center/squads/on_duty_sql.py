"""Whether a squad is on duty at a moment, in SQL, written once.

A squad with shifts in `squad_shifts` is on duty when one of them covers the local time
(a shift that ends at or before it starts runs past midnight into the next day), and
holidays without `on_holidays` are off; a squad with no shifts follows its `on_duty`
flag. Dispatch ranks candidates by it; the consoles and the OGC squads collection show it.

Use `ROSTER_TODAY` as a FROM item (it needs the parameters `:now` and `:zone`) and
`ON_DUTY_NOW` as an expression over the squads row aliased `s`.
"""

from __future__ import annotations

ROSTER_TODAY = """(
    SELECT local, CAST(local AS date) AS day, CAST(local AS time) AS t,
           CAST(extract(isodow FROM local) AS int) AS dow,
           CAST(extract(isodow FROM local - interval '1 day') AS int) AS yesterday_dow,
           EXISTS (SELECT 1 FROM holidays h
                   WHERE h.day = CAST(local AS date) AND NOT h.workday) AS holiday,
           EXISTS (SELECT 1 FROM holidays h
                   WHERE h.day = CAST(local AS date) - 1 AND NOT h.workday) AS yesterday_holiday
    FROM (SELECT CAST(:now AS timestamptz) AT TIME ZONE :zone AS local) AS clock_local
) AS today"""

ON_DUTY_NOW = """CASE WHEN NOT EXISTS (SELECT 1 FROM squad_shifts x WHERE x.squad_code = s.code)
            THEN s.on_duty
            ELSE EXISTS (
                SELECT 1 FROM squad_shifts x
                WHERE x.squad_code = s.code AND (
                    (x.weekday = today.dow AND (x.on_holidays OR NOT today.holiday)
                     AND today.t >= x.starts AND (x.ends <= x.starts OR today.t < x.ends))
                    OR
                    (x.weekday = today.yesterday_dow AND x.ends <= x.starts
                     AND (x.on_holidays OR NOT today.yesterday_holiday) AND today.t < x.ends)
                ))
       END"""
