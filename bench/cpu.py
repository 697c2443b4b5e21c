"""CPU time of processes from /proc (Linux), to tell who was busy during a run.

Every function returns None where /proc is not readable; a process that exits between
two readings takes its CPU time with it, so numbers are lower bounds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class Snapshot:
    """CPU seconds used so far, by group of processes, and the machine's busy/total ticks."""

    server: float | None
    postgres: float
    redis: float
    client: float
    machine_busy: int
    machine_total: int


def snapshot(server_pgid: int | None) -> Snapshot:
    server = 0.0 if server_pgid is not None else None
    postgres = redis = 0.0
    for pid_dir in PROC.glob("[0-9]*"):
        stat = _read_stat(pid_dir)
        if stat is None:
            continue
        command, pgrp, seconds = stat
        if server is not None and pgrp == server_pgid:
            server += seconds
        elif command == "postgres":
            postgres += seconds
        elif command.startswith("redis-server"):
            redis += seconds
    busy, total = machine_ticks()
    times = os.times()
    return Snapshot(server, postgres, redis, times.user + times.system, busy, total)


def usage(before: Snapshot, after: Snapshot, wall_seconds: float) -> dict[str, float | None]:
    """Percent of one core per group (100 = one core busy), and of the whole machine."""

    def pct(a: float | None, b: float | None) -> float | None:
        if a is None or b is None or wall_seconds <= 0:
            return None
        return round(100 * (b - a) / wall_seconds, 1)

    total = after.machine_total - before.machine_total
    machine = round(100 * (after.machine_busy - before.machine_busy) / total, 1) if total else None
    return {
        "client": pct(before.client, after.client),
        "server": pct(before.server, after.server),
        "postgres": pct(before.postgres, after.postgres),
        "redis": pct(before.redis, after.redis),
        "machine": machine,
        "cores": float(os.cpu_count() or 1),
    }


def seconds_of(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes (0 for one that is gone)."""
    total = 0.0
    for pid in pids:
        stat = _read_stat(PROC / str(pid))
        if stat is not None:
            total += stat[2]
    return total


def group_pids(pgid: int) -> list[int]:
    """The processes of process group `pgid`."""
    found = []
    for pid_dir in PROC.glob("[0-9]*"):
        stat = _read_stat(pid_dir)
        if stat is not None and stat[1] == pgid:
            found.append(int(pid_dir.name))
    return found


def rss_mb(pgid: int) -> float | None:
    """Resident memory of every process in group `pgid`, in MiB (None without /proc)."""
    total, seen = 0, False
    for pid_dir in PROC.glob("[0-9]*"):
        stat = _read_stat(pid_dir)
        if stat is None or stat[1] != pgid:
            continue
        try:
            status = (pid_dir / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
                seen = True
    return round(total / 1024, 1) if seen else None


def _read_stat(pid_dir: Path) -> tuple[str, int, float] | None:
    try:
        raw = (pid_dir / "stat").read_text()
    except OSError:
        return None
    command = raw[raw.find("(") + 1 : raw.rfind(")")]
    fields = raw[raw.rfind(")") + 2 :].split()
    # fields[0] is field 3 of proc(5): pgrp is field 5, utime 14, stime 15.
    return command, int(fields[2]), (int(fields[11]) + int(fields[12])) / _TICKS


def machine_ticks() -> tuple[int, int]:
    """The machine's busy and total CPU ticks so far ((0, 0) without /proc)."""
    try:
        first = (PROC / "stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0, 0
    ticks = [int(value) for value in first[:8]]
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle, sum(ticks)
