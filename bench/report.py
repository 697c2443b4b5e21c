"""The numbers of one run: percentiles, the printed table and the JSON file."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

Millis = dict[str, float | None]


def percentile(ascending: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q from 0 to 100) of ascending values; None when empty."""
    if not ascending:
        return None
    rank = max(1, math.ceil(q / 100 * len(ascending)))
    return ascending[rank - 1]


def summary_ms(seconds: Iterable[float]) -> Millis:
    """p50/p90/p99/max in milliseconds, from durations in seconds."""
    values = sorted(seconds)
    points: Millis = {f"p{q}": percentile(values, q) for q in (50, 90, 99)}
    points["max"] = values[-1] if values else None
    return {key: None if value is None else round(value * 1000, 1) for key, value in points.items()}


@dataclass
class Result:
    mode: str
    tips_sent: int
    peak_in_flight: int
    ok: int
    errors: dict[str, int]
    elapsed_s: float
    throughput_tips_s: float
    delivered: int
    missing: int
    latency_ms: Millis
    last_listener_ms: Millis
    post_ms: Millis
    operator_ms: Millis
    fanout_incomplete: int
    wrong_squad: int
    misrouted: int
    operator_copies: int
    operator_copies_expected: int
    listeners: int
    listeners_connected: int
    listeners_failed: int
    operators: int
    reconnects: int
    close_codes: dict[str, int]
    connect_s: float
    workers: str
    bus: str
    cpu_pct: dict[str, float | None]
    server_log_problems: int | None
    server_log_sample: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timed_out: bool = False

    @property
    def passed(self) -> bool:
        return not self.timed_out and self.missing == 0 and self.ok > 0

    def write_json(self, path: Path) -> None:
        body: dict[str, Any] = {**asdict(self), "passed": self.passed}
        path.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    def table(self) -> str:
        rows: list[tuple[str, str]] = [
            ("mode", self.mode),
            ("tips sent", f"{self.tips_sent} (at most {self.peak_in_flight} in flight)"),
            ("ok", str(self.ok)),
            ("errors", _errors(self.errors)),
            ("elapsed", f"{self.elapsed_s:.2f} s"),
            ("throughput", f"{self.throughput_tips_s:.1f} tips/s"),
            ("delivered", f"{self.delivered} (missing {self.missing})"),
            ("tip→squad latency", _ms(self.latency_ms)),
            ("  at last listener", _ms(self.last_listener_ms)),
            ("  at last operator", _ms(self.operator_ms)),
            ("POST round trip", _ms(self.post_ms)),
            ("fan-out incomplete", str(self.fanout_incomplete)),
            ("misrouted / wrong squad", f"{self.misrouted} / {self.wrong_squad}"),
            ("operator copies", f"{self.operator_copies} of {self.operator_copies_expected}"),
            ("listeners", self._listeners()),
            ("reconnects", f"{self.reconnects} {_codes(self.close_codes)}".strip()),
            ("workers", self.workers),
            ("bus", self.bus),
            ("cpu (% of one core)", _cpu(self.cpu_pct)),
            ("server log", _log(self.server_log_problems)),
        ]
        width = max(len(label) for label, _ in rows)
        lines = [f"{label:<{width}}  {value}" for label, value in rows]
        lines += [f"  | {line[:160]}" for line in self.server_log_sample]
        lines += [f"note: {note}" for note in self.notes]
        if self.timed_out:
            lines.append("TIMED OUT: the numbers above are partial")
        return "\n".join(lines)

    def _listeners(self) -> str:
        squads = self.listeners - self.operators
        text = f"{self.listeners_connected}/{self.listeners} connected in {self.connect_s:.1f} s"
        text += f" ({squads} squad, {self.operators} operator)"
        return text + (f", {self.listeners_failed} failed" if self.listeners_failed else "")


def _ms(points: Millis) -> str:
    if all(value is None for value in points.values()):
        return "-"
    return "  ".join(f"{key} {value}" for key, value in points.items()) + " ms"


def _log(problems: int | None) -> str:
    return "n/a (server not ours)" if problems is None else f"{problems} problems logged"


def _errors(errors: dict[str, int]) -> str:
    total = sum(errors.values())
    if not total:
        return "0"
    return f"{total} (" + ", ".join(f"{kind}: {n}" for kind, n in sorted(errors.items())) + ")"


def _codes(codes: dict[str, int]) -> str:
    if not codes:
        return ""
    return "(close codes " + ", ".join(f"{code}×{n}" for code, n in sorted(codes.items())) + ")"


def _cpu(cpu: dict[str, float | None]) -> str:
    shown = [
        f"{name} {value:.0f}"
        for name, value in cpu.items()
        if name not in ("machine", "cores") and value is not None
    ]
    machine, cores = cpu.get("machine"), cpu.get("cores")
    if machine is not None:
        shown.append(f"| machine {machine:.0f}% of {cores:.0f} cores")
    return "  ".join(shown) or "n/a"
