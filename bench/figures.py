"""The table of `python -m bench`: each run's JSON as one row, its ceiling beside it.

Rows are printed as a Markdown table, so that a run can go into the README as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

THROUGHPUT_SHARE = 0.6  # of the pgbench ceiling (issue 8)
P99_TARGET_MS = 50.0  # tip→squad at 100 tips/s
FANOUT_TARGET = (10_000, 250.0)  # connections, ms to reach them all


class RunLike(Protocol):
    name: str
    body: dict[str, Any] | None
    failure: str | None


@dataclass(frozen=True, slots=True)
class Row:
    benchmark: str
    figure: str
    ceiling: str
    target: str
    verdict: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def render(rows: list[Row]) -> str:
    head = Row("benchmark", "figure", "ceiling (same run)", "target", "verdict")
    cells = [[row.benchmark, row.figure, row.ceiling, row.target, row.verdict] for row in rows]
    all_rows = [[head.benchmark, head.figure, head.ceiling, head.target, head.verdict], *cells]
    widths = [max(len(r[i]) for r in all_rows) for i in range(5)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in all_rows]  # fmt: skip
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def _ms(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f}"


def _failed(name: str, run: RunLike | None) -> Row | None:
    if run is None:
        return None
    if run.body is None:
        return Row(name, f"not measured: {run.failure}", "-", "-", "-")
    return None


def ceiling_figures(runs: Mapping[str, RunLike]) -> tuple[float | None, float | None, str]:
    """(best tx/s, one-client latency ms, description) of the pgbench run, if any."""
    run = runs.get("ceiling")
    if run is None or run.body is None:
        return None, None, "pgbench not run"
    levels = run.body["levels"]
    best = max(levels, key=lambda level: level["tps"])
    single = next((level for level in levels if level["clients"] == 1), None)
    counts = "/".join(str(level["clients"]) for level in levels)
    text = f"pgbench, same transaction: {best['tps']:.0f} tx/s (best of {counts} clients)"
    return best["tps"], single["latency_ms"] if single else None, text


def throughput(runs: Mapping[str, RunLike], ceiling: float | None, text: str) -> Row | None:
    run = runs.get("throughput")
    failed = _failed("intake + dispatch + push, closed loop", run)
    if run is None or failed is not None:
        return failed
    body = run.body or {}
    rate = float(body["throughput_tips_s"])
    cpu = body.get("cpu_pct", {})
    per_tip = (cpu.get("server") or 0) / 100 / rate * 1000 if rate else None
    figure = (
        f"{rate:.0f} tips/s, {body['ok']} answered, {body['missing']} lost; "
        f"server {_ms(per_tip)} ms CPU/tip, machine {cpu.get('machine') or 0:.0f}% busy"
    )
    if ceiling is None:
        return Row("intake + dispatch + push, closed loop", figure, text, "≥ 0.6 × ceiling", "-")
    share = rate / ceiling
    target = f"≥ {THROUGHPUT_SHARE} × ceiling = {THROUGHPUT_SHARE * ceiling:.0f} tips/s"
    verdict = f"{share:.2f} of ceiling: " + ("met" if share >= THROUGHPUT_SHARE else "missed")
    name = f"intake + dispatch + push, {body['listeners_connected']} listeners, 32 in flight"
    return Row(name, figure, text, target, verdict)


def latency(runs: Mapping[str, RunLike], rate: int, single_ms: float | None) -> Row | None:
    name = f"tip→squad at {rate} tips/s, 1,000 listeners"
    run = runs.get(f"latency-{rate}")
    failed = _failed(name, run)
    if run is None or failed is not None:
        return failed
    body = run.body or {}
    points, held = body["latency_ms"], float(body["throughput_tips_s"])
    figure = (
        f"p50 {_ms(points['p50'])} / p99 {_ms(points['p99'])} ms; {held:.0f} tips/s held, "
        f"{body['missing']} lost"
    )
    ceiling = "-" if single_ms is None else f"pgbench 1 client: {single_ms:.1f} ms per transaction"
    if rate == 100:
        p99 = points.get("p99")
        target = f"p99 ≤ {P99_TARGET_MS:.0f} ms"
        verdict = "met" if p99 is not None and p99 <= P99_TARGET_MS else "missed"
    else:
        target = "-"
        verdict = "rate held" if held >= 0.95 * rate else "rate not held"
    return Row(name, figure, ceiling, target, verdict)


def fanout(runs: Mapping[str, RunLike]) -> list[Row]:
    run = runs.get("fanout")
    failed = _failed("websocket fan-out", run)
    if run is None or failed is not None:
        return [failed] if failed else []
    body = run.body or {}
    rows = []
    for step in body["steps"]:
        to_all, spread, floor = step["post_to_all_ms"], step["spread_ms"], step["floor_to_all_ms"]
        rss = step.get("server_rss_mb")
        figure = (
            f"{step['held']} held; one event to all: p50 {_ms(to_all.get('p50'))} / max "
            f"{_ms(to_all.get('max'))} ms from the POST (first→last copy "
            f"{_ms(spread.get('p50'))} ms); server RSS {_ms(rss)} MB"
        )
        ceiling = f"bare broadcaster: {_ms(floor.get('p50'))} ms to all"
        target, verdict = "-", f"{step['reached_all']}/{step['probes']} probes reached all"
        if step["target"] == FANOUT_TARGET[0]:
            worst = to_all.get("max")
            target = f"{FANOUT_TARGET[0]:,} held, all within {FANOUT_TARGET[1]:.0f} ms"
            held = step["held"] == step["target"]
            met = held and worst is not None and worst <= FANOUT_TARGET[1]
            verdict = "met" if met else "missed"
        rows.append(Row(f"fan-out to {step['target']:,} connections", figure, ceiling, target,
                        verdict))  # fmt: skip
    return rows


def lookup(runs: Mapping[str, RunLike]) -> Row | None:
    name = "jurisdiction lookup"
    run = runs.get("lookup")
    failed = _failed(name, run)
    if run is None or failed is not None:
        return failed
    body = run.body or {}
    points = body["latency_ms"]
    figure = (
        f"{body['lookups_s']:.0f} lookups/s through the service's code, p50 "
        f"{_ms(points['p50'])} / p99 {_ms(points['p99'])} ms ({body['sessions']} sessions)"
    )
    ceiling = f"pgbench, same statement: {body['ceiling_lookups_s']:.0f} lookups/s"
    share = body["lookups_s"] / max(body["ceiling_lookups_s"], 1e-9)
    return Row(f"{name}, {body['cells']:,} grid cells", figure, ceiling, "-", f"{share:.2f}")


def wall(runs: Mapping[str, RunLike]) -> Row | None:
    name = "wall screen, 100,000 open clues (Chromium)"
    run = runs.get("wall")
    if run is None:
        return None
    if run.body is None:
        return Row(name, run.failure or "not available", "-", "-", "-")
    view, intake = run.body.get("wall", {}), run.body.get("intake_to_wall", {})
    figure = (
        f"first paint {_ms(view.get('first_paint_ms'))} ms, map ready "
        f"{_ms(view.get('map_ready_ms'))} ms; after an event: p50 "
        f"{_ms(intake.get('p50_ms'))} / max {_ms(intake.get('max_ms'))} ms"
    )
    # The wall opens on the whole city: the answer for that view comes before its paint.
    first = next(iter(run.body.get("api", {}).items()), None)
    ceiling = "-"
    if first:
        answer = _ms(first[1].get("median_ms"))
        ceiling = f"its API's {first[0]} answer: {answer} ms (map ready waits)"
    return Row(f"wall screen, {run.body.get('clues', '?'):,} open clues", figure, ceiling, "-",
               "-")  # fmt: skip


def rows(runs: Mapping[str, RunLike], *, workers: int) -> list[Row]:
    best, single, text = ceiling_figures(runs)
    found: list[Row | None] = [throughput(runs, best, text)]
    found += [latency(runs, rate, single) for rate in (10, 100, 300)]
    found += fanout(runs)
    found += [lookup(runs), wall(runs)]
    return [row for row in found if row is not None]
