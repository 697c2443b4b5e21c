"""The SQL of the indicators: counted over the event record (`events`), grouped by the
clue rows' department, district or matter. Definitions: stats.model.

Every query takes the period (`start`, `end`), its cut-off `cut` (events at or after it
are ignored, so a past period gives the same figures whenever it is asked) and a scope:
the one clue scope rule of auth.scope (a squad counts the clues it has or assists in).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.scope import Scope, clue_filter
from command_center.stats.model import (
    STEP_EVENTS,
    Counts,
    Dimension,
    Step,
    StepTime,
    Window,
)

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
# Filled in per query with auth.scope.clue_filter (see `_sql`).
SCOPE = "{scope}"

# Clues that can be due in the period: a superset, narrowed by the record below. Left
# out are only clues created after the cut-off, clues closed before the period and never
# reopened, clues cancelled or merged before it, and open clues whose deadline now lies
# before the period: a deadline only ever moves later (a new dispatch, an extension, the
# end of a hold all set one after the moment they happen) or is cleared, so such a clue's
# deadline at the cut-off was before the period too.
DUE_LATER = "AND (c.deadline IS NULL OR c.deadline >= :start)"
CANDIDATES = """
SELECT c.id FROM clues c
WHERE c.state NOT IN ('closed', 'cancelled', 'duplicate') AND c.created_at < :cut
  {open_filter}
UNION SELECT c.id FROM clues c WHERE c.closed_at >= :start AND c.created_at < :cut
UNION SELECT c.id FROM clues c WHERE c.reopen_count > 0 AND c.created_at < :cut
UNION SELECT c.id FROM clues c
WHERE c.state IN ('cancelled', 'duplicate') AND c.updated_at >= :start AND c.created_at < :cut
"""

# Each candidate's situation at the cut-off, from its events before it.
FACTS_TEMPLATE = f"""
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

FACTS = FACTS_TEMPLATE.replace("{open_filter}", DUE_LATER)  # for what is due in P
# every clue open at the cut-off, however long overdue (the overdue list and count)
FACTS_ALL_OPEN = FACTS_TEMPLATE.replace("{open_filter}", "")

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

# The time of the latest start event of each step before an event, in one window pass over
# the events of the clues that ended a step in the period.
_BEFORE = "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
_LAST = ",\n".join(
    f"    max(e.at) FILTER (WHERE e.type = '{start}') OVER w AS last_{step.value}"
    for step, (start, _) in STEP_EVENTS.items()
)
_PAIRS = "\n".join(
    f"    WHEN '{end}' THEN x.at - x.last_{step.value}"
    for step, (_, end) in STEP_EVENTS.items()
    if step is not Step.DISPATCH
)
_NAMES = "\n".join(
    f"    WHEN '{end}' THEN '{step.value}'"
    for step, (_, end) in STEP_EVENTS.items()
    if step is not Step.DISPATCH
)
STEPS = f"""
WITH clues_ending AS (
    SELECT DISTINCT e.clue_id FROM events e JOIN clues c ON c.id = e.clue_id
    WHERE e.at >= :start AND e.at < :cut
      AND e.type IN ('clue.dispatched', 'clue.accepted', 'clue.on_scene', 'clue.handled',
                     'clue.closed')
      AND {SCOPE}
),
ev AS (
    SELECT e.clue_id, e.type, e.at,
{_LAST},
    count(*) FILTER (WHERE e.type = 'clue.dispatched') OVER w AS dispatches_before
    FROM events e JOIN clues_ending USING (clue_id)
    WHERE e.at < :cut
    WINDOW w AS (PARTITION BY e.clue_id ORDER BY e.id {_BEFORE})
),
paired AS (
    SELECT x.clue_id,
        CASE WHEN x.type = 'clue.dispatched' THEN 'dispatch' ELSE CASE x.type
{_NAMES}
        END END AS step,
        EXTRACT(EPOCH FROM CASE
            WHEN x.type = 'clue.dispatched' THEN x.at - x.last_dispatch
            ELSE CASE x.type
{_PAIRS}
            END END) AS seconds
    FROM ev x
    WHERE x.at >= :start
      AND x.type IN ('clue.dispatched', 'clue.accepted', 'clue.on_scene', 'clue.handled',
                     'clue.closed')
      AND (x.type <> 'clue.dispatched' OR x.dispatches_before = 0)
)
SELECT {{key}} AS key, {{name}} AS name, p.step, count(*) AS n, avg(p.seconds) AS mean,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY p.seconds) AS p90
FROM paired p JOIN clues c ON c.id = p.clue_id {JOINS}
WHERE p.seconds IS NOT NULL
GROUP BY 1, 2, 3
"""

OVERDUE_AT_CUT = """
NOT s.gone AND NOT s.is_closed AND NOT s.on_hold
AND s.state IN ('dispatched', 'accepted', 'on_scene') AND s.deadline_at < :cut
"""

COUNT_OVERDUE_AT_CUT = f"WITH {FACTS_ALL_OPEN} SELECT count(*) FROM status s WHERE {OVERDUE_AT_CUT}"

WORST_OVERDUE = f"""
WITH {FACTS_ALL_OPEN}
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
    return {"start": window.start, "end": window.end, "cut": window.cut, **clue_filter(scope)[1]}


def _sql(template: str, scope: Scope, dimension: Dimension = Dimension.TOTAL) -> str:
    """The template with its group key and name for `dimension` and its scope condition."""
    key, name = GROUP[dimension]
    condition = clue_filter(scope)[0]
    return template.replace("{key}", key).replace("{name}", name).replace("{scope}", condition)


async def counts(
    session: AsyncSession, window: Window, scope: Scope, dimension: Dimension
) -> dict[str | None, tuple[str | None, Counts]]:
    """Counts per group key: (group name, Counts)."""
    params = _params(window, scope)
    out: dict[str | None, tuple[str | None, dict[str, int]]] = {}
    for row in await session.execute(text(_sql(COHORT, scope, dimension)), params):
        values = dict(row._mapping)
        out[values.pop("key")] = (values.pop("name"), values)
    for row in await session.execute(text(_sql(FLOW, scope, dimension)), params):
        values = dict(row._mapping)
        key, name = values.pop("key"), values.pop("name")
        out.setdefault(key, (name, {}))[1].update(values)
    return {key: (name, Counts(**values)) for key, (name, values) in out.items()}


async def step_times(
    session: AsyncSession, window: Window, scope: Scope, dimension: Dimension
) -> dict[str | None, dict[str, StepTime]]:
    rows = await session.execute(text(_sql(STEPS, scope, dimension)), _params(window, scope))
    out: dict[str | None, dict[str, StepTime]] = {}
    for row in rows:
        out.setdefault(row.key, {})[row.step] = StepTime(
            count=int(row.n),
            mean_seconds=float(row.mean) if row.mean is not None else None,
            p90_seconds=float(row.p90) if row.p90 is not None else None,
        )
    return out


async def overdue_now(session: AsyncSession, *, now: datetime, scope: Scope) -> int:
    params = {"now": now, **clue_filter(scope)[1]}
    return int((await session.execute(text(_sql(OVERDUE_NOW, scope)), params)).scalar_one())


async def worst_overdue(
    session: AsyncSession, window: Window, scope: Scope, limit: int
) -> list[dict[str, Any]]:
    """Clues open and past their deadline at the cut-off, the longest overdue first."""
    sql = _sql(WORST_OVERDUE, scope)
    rows = await session.execute(text(sql), {**_params(window, scope), "limit": limit})
    return [dict(row._mapping) for row in rows]


async def overdue_at_cut(session: AsyncSession, window: Window, scope: Scope) -> int:
    """How many clues were open and past their deadline at the cut-off."""
    sql = _sql(COUNT_OVERDUE_AT_CUT, scope)
    return int((await session.execute(text(sql), _params(window, scope))).scalar_one())


async def daily(
    session: AsyncSession, window: Window, scope: Scope, zone: str
) -> list[dict[str, Any]]:
    """Clues received and closed per local day of the period."""
    sql = _sql(DAILY, scope)
    rows = await session.execute(text(sql), {**_params(window, scope), "zone": zone})
    return [dict(row._mapping) for row in rows]
