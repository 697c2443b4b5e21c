"""The charts of a report as SVG (pygal), drawn without a browser or any network."""

from __future__ import annotations

from typing import Any

import pygal
from pygal.style import Style

from command_center.stats.model import Row

FONT = "Noto Sans CJK SC, Noto Sans CJK, sans-serif"
STYLE = Style(
    font_family=FONT,
    background="white",
    plot_background="white",
    foreground="#333333",
    foreground_strong="#111111",
    foreground_subtle="#999999",
    colors=("#b22222", "#2f4f6f", "#c8a24a"),
    title_font_size=16,
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    value_font_size=10,
)
OPTIONS: dict[str, Any] = {
    "style": STYLE,
    "width": 760,
    "height": 300,
    "legend_at_bottom": True,
    "disable_xml_declaration": True,
    "js": [],  # no script: the SVG is printed, and nothing is fetched
    "print_values": True,
    "print_zeroes": False,
}


def daily_flow(days: list[str], received: list[int], closed: list[int]) -> str:
    chart = pygal.Bar(**OPTIONS, title="每日受理与结案（件）")
    chart.x_labels = days
    chart.add("受理", received)
    chart.add("结案", closed)
    return str(chart.render(is_unicode=True))


def department_rates(rows: list[Row]) -> str:
    """Closure and on-time rates per ranked department, in percent."""
    ranked = [r for r in rows if r.rank is not None][:12]
    chart = pygal.HorizontalBar(
        **{**OPTIONS, "height": max(220, 60 + 42 * len(ranked))},
        title="各部门结案率与按期结案率（%）",
        truncate_label=-1,
        range=(0, 100),
        value_formatter=lambda v: f"{v:.1f}",
    )
    chart.x_labels = [r.name or r.key or "" for r in reversed(ranked)]
    chart.add("结案率", [_pct(r.rates.closure_rate) for r in reversed(ranked)])
    chart.add("按期结案率", [_pct(r.rates.on_time_rate) for r in reversed(ranked)])
    return str(chart.render(is_unicode=True))


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)
