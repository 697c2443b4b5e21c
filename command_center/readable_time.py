"""Times as people in the city read them: `12月3日 18:37`, in the city's zone. No I/O.

The public pages and the documents show these; the APIs keep ISO-8601 for programs.
"""

from __future__ import annotations

from datetime import datetime, tzinfo


def chinese(moment: datetime, zone: tzinfo, *, year: bool | None = None) -> str:
    """`12月3日 18:37` in `zone`; with the year (`2026年12月3日 18:37`) when `year` is true,
    or, when it is None, only if the moment is not in the current year there. A naive
    `moment` is refused (ValueError): a time without a zone cannot be shown right."""
    if moment.tzinfo is None:
        raise ValueError("a time without a zone cannot be shown in local time")
    local = moment.astimezone(zone)
    if year is None:
        year = local.year != datetime.now(zone).year
    text = f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local.year}年{text}" if year else text


def chinese_iso(value: str, zone: tzinfo) -> str:
    """`chinese()` of an ISO-8601 text with an offset (as the APIs give it)."""
    return chinese(datetime.fromisoformat(value), zone)
