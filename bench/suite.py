"""Every benchmark of issue 8 in one run, one table, each figure beside its ceiling.

    python -m bench [--only NAME,...] [--workers 2] [--quick] [--json FILE] [--out DIR]

Runs, one after another, each as its own process (`python -m bench.<module> ... --json`),
each bounded by its own time-out, on loopback only:

  ceiling     pgbench of the intake transaction the service issues (bench.ceiling)
  throughput  closed-loop intake + dispatch + push with listeners (bench.tips)
  latency     tip→squad at 10, 100 and 300 tips/s with 1,000 listeners (bench.tips --rate)
  fanout      connections held and one event to all, up to 10,000 (bench.fanout)
  lookup      jurisdiction lookup with 100,000 grid cells (bench.lookup)
  wall        the wall screen with 100,000 open clues (bench.wall, when it exists)

The ceilings are measured in the same run: throughput against pgbench's best rate of the
same transaction, tip→squad latency against pgbench's latency of that transaction with
one client (the database's own time for it), fan-out against a bare broadcaster writing
to as many connections, lookup against pgbench of the lookup statement. Between runs the
bench database's open clues are cancelled, so that every run starts with empty squads.
Logs and JSON of every run go to `--out` (a temporary directory by default).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.figures import Row, render
from bench.figures import rows as figure_rows
from bench.server import DEFAULT_DATABASE_URL, BenchError, reset_workloads

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("ceiling", "throughput", "latency", "fanout", "lookup", "wall")
RATES = (10, 100, 300)


@dataclass
class Run:
    """One benchmark process: its JSON (None if it failed) and why it failed."""

    name: str
    body: dict[str, Any] | None
    seconds: float
    failure: str | None = None


@dataclass
class Suite:
    args: argparse.Namespace
    out: Path
    runs: dict[str, Run] = field(default_factory=dict)

    async def bench(self, name: str, module: str, argv: list[str], timeout: float) -> Run:
        """`python -m bench.<module> argv --json FILE`, its output logged to `out`."""
        target = self.out / f"{name}.json"
        log = self.out / f"{name}.log"
        print(f"==> {name}: python -m bench.{module} {' '.join(argv)}", file=sys.stderr)
        started = time.monotonic()
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                f"bench.{module}",
                *argv,
                "--json",
                str(target),
                cwd=ROOT,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = await asyncio.wait_for(process.wait(), timeout=timeout)
            except (TimeoutError, asyncio.CancelledError):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), timeout=15)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    await process.wait()
                code = None
        elapsed = time.monotonic() - started
        body = json.loads(target.read_text("utf-8")) if target.exists() else None
        failure = None
        if code is None:
            failure = f"timed out after {timeout:.0f} s"
        elif body is None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            failure = f"exit {code}: " + " / ".join(tail)
        run = Run(name, body, elapsed, failure)
        self.runs[name] = run
        state = failure or f"done in {elapsed:.0f} s"
        print(f"    {name}: {state} (log {log})", file=sys.stderr)
        return run


async def execute(args: argparse.Namespace, out: Path) -> Suite:
    suite = Suite(args, out)
    quick = args.quick
    workers = str(args.workers)
    prepared: list[str] = []  # becomes ["--no-setup"] once a run has set up the database

    async def reset() -> None:
        if prepared:
            await reset_workloads(DEFAULT_DATABASE_URL)

    if "ceiling" in args.only:
        argv = ["--clients", "1,8,32", "--seconds", "3" if quick else "8"]
        if (await suite.bench("ceiling", "ceiling", argv, 300)).body is not None:
            prepared = ["--no-setup"]
    if "throughput" in args.only:
        await reset()
        argv = ["--tips", "800" if quick else "4000", "--listeners", "200"]
        argv += ["--concurrency", "32", "--workers", workers, "--timeout", "150"]
        if (await suite.bench("throughput", "tips", argv + prepared, 200)).body is not None:
            prepared = ["--no-setup"]
    if "latency" in args.only:
        seconds = 3 if quick else 10
        for rate in RATES:
            await reset()
            argv = ["--rate", str(rate), "--tips", str(rate * seconds), "--listeners", "1000"]
            argv += ["--concurrency", "64", "--workers", workers, "--timeout", "120"]
            if (await suite.bench(f"latency-{rate}", "tips", argv + prepared, 180)).body:
                prepared = ["--no-setup"]
    if "fanout" in args.only:
        await reset()
        argv = ["--steps", "500,2000" if quick else "1000,5000,10000", "--workers", workers]
        await suite.bench("fanout", "fanout", [*argv, "--timeout", "300", *prepared], 360)
    if "lookup" in args.only:
        await suite.bench("lookup", "lookup", ["--seconds", "3" if quick else "5"], 300)
    if "wall" in args.only:
        if importlib.util.find_spec("bench.wall") is None:
            suite.runs["wall"] = Run("wall", None, 0.0, "not available (no bench.wall module)")
        else:
            await suite.bench("wall", "wall", ["--timeout", "540"], 600)
    return suite


def rows(suite: Suite) -> list[Row]:
    return figure_rows(suite.runs, workers=suite.args.workers)


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} × {cpu}, {memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average at start {load}"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run every benchmark; print one table with the ceiling beside each figure.",
    )
    add = parser.add_argument
    add("--only", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    add("--workers", type=int, default=2, help="server worker processes (default 2)")
    add("--quick", action="store_true", help="smaller, shorter runs (a smoke test)")
    add("--out", type=Path, help="directory for the runs' logs and JSON (default: temporary)")
    add("--json", type=Path, help="also write the table's rows as JSON")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(STEPS)
    if unknown:
        parser.error(f"unknown benchmark {sorted(unknown)[0]!r}; choose from {','.join(STEPS)}")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-suite-"))
    out.mkdir(parents=True, exist_ok=True)
    header = machine()
    if shutil.which("pgbench") is None:
        print("error: pgbench is not on PATH (Debian: postgresql-client)", file=sys.stderr)
        raise SystemExit(1)
    try:
        suite = asyncio.run(execute(args, out))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    table = rows(suite)
    print(f"machine: {header}; server --workers {args.workers}")
    print(render(table))
    print(f"logs and JSON of every run: {out}")
    if args.json:
        body = {"machine": header, "workers": args.workers, "rows": [r.as_dict() for r in table]}
        args.json.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", "utf-8")
    failed = [run.name for run in suite.runs.values() if run.failure and run.name != "wall"]
    raise SystemExit(1 if failed else 0)
