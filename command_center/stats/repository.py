"""The SQL of the indicators: counted over the event record (`events`), grouped by the
clue rows' department, district or matter. Definitions: stats.model.

Every query takes the period (`start`, `end`), its cut-off `cut` (events at or after it
are ignored, so a past period gives the same figures whenever it is asked) and a scope:
`jurisdiction` (the clue's path contains it) and/or `squad` (the clue's current squad).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.stats.model import STEP_EVENTS, Counts, Dimension, Scope, StepTime, Window

# (key, name) of a clue's group; constant SQL fragments chosen by Dimension only.
GROUP: dict[Dimension, tuple[str, str]] = {
    Dimension.TOTAL: ("CAST(NULL AS text)", "CAST(NULL AS text)"),
    Dimension.DEPARTMENT: ("c.department", "c.department"),
    Dimension.DISTRICT: ("d.code", "d.name"),
    Dimension.MATTER: ("c.matter_code", "m.name"),
}
JOINS = """
JOIN matters m ON m.code = c.matter_code
LEFT JOIN LATERAL (
    SELECT j.code, j.name FROM jurisdictions j
    WHERE j.code = ANY(c.jurisdiction_path) AND j.level = 'district'
    ORDER BY j.level_rank LIMIT 1
) d ON true
"""
SCOPE = """
(CAST(:jurisdiction AS text) IS NULL
 OR c.jurisdiction_path @> ARRAY[CAST(:jurisdiction AS text)])
AND (CAST(:squad AS text) IS NULL OR c.squad_code = CAST(:squad AS text))
"""

# Clues that can be due in the period: a superset, narrowed by the record below. Left
# out are only clues created after the cut-off, clues closed before the period and
# never reopened, and clues cancelled or merged before it.
CANDIDATES = """
SELECT c.id FROM clues c
WHERE c.state NOT IN ('closed', 'cancelled', 'duplicate') AND c.created_at < :cut
UNION SELECT c.id FROM clues c WHERE c.closed_at >= :start AND c.created_at < :cut
UNION SELECT c.id FROM clues c WHERE c.reopen_count > 0 AND c.created_at < :cut
UNION SELECT c.id FROM clues c
WHERE c.state IN ('cancelled', 'duplicate') AND c.updated_at >= :start AND c.created_at < :cut
"""

# Each candidate's situation at the cut-off, from its events before it.
FACTS = f"""
cand AS (
    SELECT c.id, {{key}} AS key, {{name}} AS name
    FROM clues c {JOINS}
    WHERE c.id IN ({CANDIDATES}) AND {SCOPE}
),
facts AS (
    SELECT e.clue_id,
        max(e.id) FILTER (WHERE e.type = 'clue.closed') AS closed_id,
        max(e.id) FILTER (WHERE e.type = 'clue.reopened') AS reopened_id,
        max(e.id) FILTER (WHERE e.type = 'clue.cancelled') AS cancelled_id,
        max(e.id) FILTER (WHERE e.type = 'clue.duplicate') AS duplicate_id,
        max(e.id) FILTER (WHERE e.type = 'clue.received'
                          AND e.data->>'from' = 'duplicate') AS unlinked_id,
        max(e.id) FILTER (WHERE e.type = 'clue.hold_approved') AS hold_id,
        max(e.id) FILTER (WHERE e.type = 'clue.hold_ended') AS hold_end_id,
        (array_agg(e.at ORDER BY e.id DESC)
            FILTER (WHERE e.type = 'clue.closed'))[1] AS closed_at,
        (array_agg(e.data->>'deadline' ORDER BY e.id DESC)
            FILTER (WHERE e.data->>'deadline' IS NOT NULL))[1] AS deadline,
        (array_agg(COALESCE(e.data->>'to', e.data->>'state') ORDER BY e.id DESC)
            FILTER (WHERE e.data ? 'to' OR e.type = 'clue.queued'))[1] AS state,
        bool_or(e.type = 'clue.handled') AS handled,
        bool_or(e.type = 'clue.dispatched' AND e.data->>'rework' = 'true') AS reworked,
        bool_or(e.type = 'clue.extension_approved') AS extended,
        bool_or(e.type = 'clue.returned') AS returned
    FROM events e JOIN cand ON cand.id = e.clue_id
    WHERE e.at < :cut
    GROUP BY e.clue_id
),
status AS (
    SELECT f.*, cand.key, cand.name,
        COALESCE(f.closed_id > COALESCE(f.reopened_id, 0), false) AS is_closed,
        (f.cancelled_id IS NOT NULL
         OR COALESCE(f.duplicate_id > COALESCE(f.unlinked_id, 0), false)) AS gone,
        COALESCE(f.hold_id > COALESCE(f.hold_end_id, 0), false) AS on_hold,
        CAST(f.deadline AS timestamptz) AS deadline_at
    FROM facts f JOIN cand ON cand.id = f.clue_id
)
"""

COHORT = f"""
WITH {FACTS},
due AS (
    SELECT s.*, (s.is_closed AND s.closed_at >= :start) AS closed_in_period
    FROM status s
    WHERE NOT s.gone AND (
        (s.is_closed AND s.closed_at >= :start)
        OR (NOT s.is_closed AND NOT s.on_hold
            AND s.deadline_at >= :start AND s.deadline_at < :cut))
)
SELECT d.key, d.name,
    count(*) AS due,
    count(*) FILTER (WHERE d.closed_in_period) AS closed,
    count(*) FILTER (WHERE d.closed_in_period AND h.at <= dl.deadline) AS closed_on_time,
    count(*) FILTER (WHERE d.handled) AS handled,
    count(*) FILTER (WHERE d.reworked) AS reworked,
    count(*) FILTER (WHERE d.extended) AS extended,
    count(*) FILTER (WHERE d.returned) AS returned
FROM due d
LEFT JOIN LATERAL (
    SELECT e.id, e.at FROM events e
    WHERE d.closed_in_period AND e.clue_id = d.clue_id AND e.type = 'clue.handled'
      AND e.id < d.closed_id
    ORDER BY e.id DESC LIMIT 1
) h ON true
LEFT JOIN LATERAL (
    SELECT CAST(e.data->>'deadline' AS timestamptz) AS deadline FROM events e
    WHERE h.id IS NOT NULL AND e.clue_id = d.clue_id AND e.id < h.id
      AND e.data->>'deadline' IS NOT NULL
    ORDER BY e.id DESC LIMIT 1
) dl ON true
GROUP BY d.key, d.name
"""

FLOW = f"""
SELECT {{key}} AS key, {{name}} AS name,
    count(*) FILTER (WHERE e.type = 'clue.received' AND e.data->>'from' IS NULL) AS received,
    count(DISTINCT e.clue_id) FILTER (WHERE e.type = 'clue.dispatched') AS dispatched,
    count(*) FILTER (WHERE e.type = 'clue.rated') AS ratings,
    count(*) FILTER (WHERE e.type = 'clue.rated'
                     AND CAST(e.data->>'rating' AS integer) >= 4) AS satisfied
FROM events e JOIN clues c ON c.id = e.clue_id {JOINS}
WHERE e.at >= :start AND e.at < :cut
  AND e.type IN ('clue.received', 'clue.dispatched', 'clue.rated')
  AND {SCOPE}
GROUP BY 1, 2
"""

STEPS_VALUES = ", ".join(
    f"('{step.value}', '{start}', '{end}')" for step, (start, end) in STEP_EVENTS.items()
)
STEPS = f"""
WITH ends AS (
    SELECT e.id, e.clue_id, e.type, e.at, {{key}} AS key, {{name}} AS name
    FROM events e JOIN clues c ON c.id = e.clue_id {JOINS}
    WHERE e.at >= :start AND e.at < :cut
      AND e.type IN ('clue.dispatched', 'clue.accepted', 'clue.on_scene', 'clue.handled',
                     'clue.closed')
      AND {SCOPE}
),
paired AS (
    SELECT x.key, x.name, s.step, EXTRACT(EPOCH FROM x.at - st.at) AS seconds
    FROM ends x
    JOIN (VALUES {STEPS_VALUES}) AS s(step, start_type, end_type) ON s.end_type = x.type
    JOIN LATERAL (
        SELECT e.at FROM events e
        WHERE e.clue_id = x.clue_id AND e.type = s.start_type AND e.id < x.id
        ORDER BY e.id DESC LIMIT 1
    ) st ON true
    WHERE s.step <> 'dispatch' OR NOT EXISTS (
        SELECT 1 FROM events p
        WHERE p.clue_id = x.clue_id AND p.type = 'clue.dispatched' AND p.id < x.id)
)
SELECT key, name, step, count(*) AS n, avg(seconds) AS mean,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90
FROM paired GROUP BY 1, 2, 3
"""

OVERDUE_AT_CUT = """
NOT s.gone AND NOT s.is_closed AND NOT s.on_hold
AND s.state IN ('dispatched', 'accepted', 'on_scene') AND s.deadline_at < :cut
"""

COUNT_OVERDUE_AT_CUT = f"WITH {FACTS} SELECT count(*) FROM status s WHERE {OVERDUE_AT_CUT}"

WORST_OVERDUE = f"""
WITH {FACTS}
SELECT c.id AS clue_id, c.service_request_id, c.department, c.squad_code, c.matter_code,
       m.name AS matter_name, j.name AS jurisdiction_name, s.state, s.deadline_at AS deadline,
       EXTRACT(EPOCH FROM :cut - s.deadline_at) AS overdue_seconds
FROM status s JOIN clues c ON c.id = s.clue_id
JOIN matters m ON m.code = c.matter_code JOIN jurisdictions j ON j.code = c.jurisdiction_code
WHERE {OVERDUE_AT_CUT}
ORDER BY s.deadline_at, c.id
LIMIT :limit
"""

OVERDUE_NOW = f"""
SELECT count(*) FROM clues c
WHERE c.state IN ('dispatched', 'accepted', 'on_scene') AND c.on_hold_since IS NULL
  AND c.deadline < :now AND {SCOPE}
"""

DAILY = f"""
WITH {FACTS}
SELECT day, sum(received) AS received, sum(closed) AS closed FROM (
    SELECT CAST(timezone(CAST(:zone AS text), e.at) AS date) AS day, 1 AS received, 0 AS closed
    FROM events e JOIN clues c ON c.id = e.clue_id
    WHERE e.at >= :start AND e.at < :cut AND e.type = 'clue.received'
      AND e.data->>'from' IS NULL AND {SCOPE}
    UNION ALL
    SELECT CAST(timezone(CAST(:zone AS text), s.closed_at) AS date), 0, 1 FROM status s
    WHERE s.is_closed AND s.closed_at >= :start
) x GROUP BY day ORDER BY day
"""


def _params(window: Window, scope: Scope) -> dict[str, Any]:
    return {
        "start": window.start,
        "end": window.end,
        "cut": window.cut,
        "jurisdiction": scope.jurisdiction,
        "squad": scope.squad,
    }


def _grouped(template: str, dimension: Dimension) -> str:
    key, name = GROUP[dimension]
    return template.replace("{key}", key).replace("{name}", name)


async def counts(
    session: AsyncSession, window: Window, scope: Scope, dimension: Dimension
) -> dict[str | None, tuple[str | None, Counts]]:
    """Counts per group key: (group name, Counts)."""
    params = _params(window, scope)
    out: dict[str | None, tuple[str | None, dict[str, int]]] = {}
    for row in await session.execute(text(_grouped(COHORT, dimension)), params):
        values = dict(row._mapping)
        out[values.pop("key")] = (values.pop("name"), values)
    for row in await session.execute(text(_grouped(FLOW, dimension)), params):
        values = dict(row._mapping)
        key, name = values.pop("key"), values.pop("name")
        out.setdefault(key, (name, {}))[1].update(values)
    return {key: (name, Counts(**values)) for key, (name, values) in out.items()}


async def step_times(
    session: AsyncSession, window: Window, scope: Scope, dimension: Dimension
) -> dict[str | None, dict[str, StepTime]]:
    rows = await session.execute(text(_grouped(STEPS, dimension)), _params(window, scope))
    out: dict[str | None, dict[str, StepTime]] = {}
    for row in rows:
        out.setdefault(row.key, {})[row.step] = StepTime(
            count=int(row.n),
            mean_seconds=float(row.mean) if row.mean is not None else None,
            p90_seconds=float(row.p90) if row.p90 is not None else None,
        )
    return out


async def overdue_now(session: AsyncSession, *, now: datetime, scope: Scope) -> int:
    params = {"now": now, "jurisdiction": scope.jurisdiction, "squad": scope.squad}
    return int((await session.execute(text(OVERDUE_NOW), params)).scalar_one())


async def worst_overdue(
    session: AsyncSession, window: Window, scope: Scope, limit: int
) -> list[dict[str, Any]]:
    """Clues open and past their deadline at the cut-off, the longest overdue first."""
    sql = _grouped(WORST_OVERDUE, Dimension.TOTAL)
    rows = await session.execute(text(sql), {**_params(window, scope), "limit": limit})
    return [dict(row._mapping) for row in rows]


async def overdue_at_cut(session: AsyncSession, window: Window, scope: Scope) -> int:
    """How many clues were open and past their deadline at the cut-off."""
    sql = _grouped(COUNT_OVERDUE_AT_CUT, Dimension.TOTAL)
    return int((await session.execute(text(sql), _params(window, scope))).scalar_one())


async def daily(
    session: AsyncSession, window: Window, scope: Scope, zone: str
) -> list[dict[str, Any]]:
    """Clues received and closed per local day of the period."""
    sql = _grouped(DAILY, Dimension.TOTAL)
    rows = await session.execute(text(sql), {**_params(window, scope), "zone": zone})
    return [dict(row._mapping) for row in rows]
