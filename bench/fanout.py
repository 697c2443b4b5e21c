"""Benchmark: websocket fan-out — connections held, and how long one event takes to reach
every one of them.

    python -m bench.fanout [--steps 1000,5000,10000] [--processes 4] [--workers 2]

Starts its own server (database command_center_bench, as bench.tips) and `--processes`
client processes (`bench.fanout_clients`, a lean RFC 6455 listener, so that the load
generator costs little next to the server). At each step it adds connections of one
squad (青田's QT-01, as one squad's phones, tablets and wall screens) until it holds that
many, then posts `--probes` tips in 青田 one after another. Each tip is one event for
that squad — its `clue.dispatched` (a squad does not see `clue.received`) — and for each
the bench measures from just before the
POST to the first and to the last copy received over all connections. Before the server
starts, the same client processes time a bare broadcaster (`bench.broadcaster`: one
pre-built frame written to every connection in a loop) at each step: the floor this
machine sets for reaching that many loopback connections. A step passes
when every connection is held and every probe reached all of them within
`--target-ms` (250). The open-file limit is raised (the server and each client process
need one descriptor per connection). The run is bounded by `--timeout`.
Exit status 0 when the last step passed, 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench import cpu
from bench.broadcaster import Broadcaster
from bench.report import Millis, summary_ms
from bench.server import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    HEALTH_WAIT_SECONDS,
    BenchError,
    ManagedServer,
    ensure_database,
    load_demo_city,
    mint_token,
    run_fast,
    service_env,
    wait_healthy,
)
from bench.tips import DISTRICTS, INTAKE, JITTER_DEGREES, raise_open_file_limit

ROOT = Path(__file__).resolve().parents[1]
REPORT_EVERY = 0.1
FLOOR_PROBES = 3
PROBE_DISTRICT = next(d for d in DISTRICTS if d.squads == ("QT-01",))
PROBE_SQUAD, PROBE_MATTER = "QT-01", "CG-001"
SPARE_FILES = 512


@dataclass
class Step:
    target: int
    held: int
    failed: int
    first_failure: str | None
    probes: int
    reached_all: int  # probes whose event reached every held connection
    copies_missing: int
    post_to_first_ms: Millis
    post_to_all_ms: Millis
    spread_ms: Millis  # first copy to last copy
    server_cpu_pct: float | None
    machine_pct: float | None
    floor_to_all_ms: Millis = field(default_factory=dict)  # the bare broadcaster
    server_rss_mb: float | None = None  # all worker processes, holding `held`

    def passed(self, target_ms: float) -> bool:
        worst = self.post_to_all_ms.get("max")
        return (
            self.held == self.target
            and self.reached_all == self.probes > 0
            and worst is not None
            and worst <= target_ms
        )


@dataclass
class FanoutResult:
    workers: int
    processes: int
    target_ms: float
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timed_out: bool = False

    @property
    def passed(self) -> bool:
        return bool(self.steps) and not self.timed_out and self.steps[-1].passed(self.target_ms)

    def table(self) -> str:
        lines = [
            f"server workers {self.workers}, {self.processes} client processes, "
            f"target: every connection within {self.target_ms:g} ms",
            "clients    held  failed  probes  reached all  POST→first p50  "
            "POST→all p50 / max   first→last p50   srv cpu  machine  srv RSS  floor p50 / max",
        ]
        for s in self.steps:
            lines.append(
                f"{s.target:>7} {s.held:>7} {s.failed:>7} {s.probes:>7} {s.reached_all:>12}  "
                f"{_ms(s.post_to_first_ms.get('p50')):>14}  "
                f"{_ms(s.post_to_all_ms.get('p50')):>8} / {_ms(s.post_to_all_ms.get('max')):<8}  "
                f"{_ms(s.spread_ms.get('p50')):>14}  {_pct(s.server_cpu_pct):>7}  "
                f"{_pct(s.machine_pct):>7}  {_mb(s.server_rss_mb):>7}  "
                f"{_ms(s.floor_to_all_ms.get('p50'))} / "
                f"{_ms(s.floor_to_all_ms.get('max'))}  "
                f"{'pass' if s.passed(self.target_ms) else 'FAIL'}"
            )
            if s.first_failure:
                lines.append(f"  first failure: {s.first_failure}")
        lines += [f"note: {note}" for note in self.notes]
        if self.timed_out:
            lines.append("TIMED OUT: the numbers above are partial")
        return "\n".join(lines)

    def write_json(self, path: Path) -> None:
        body: dict[str, Any] = {**asdict(self), "passed": self.passed}
        path.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


class ClientProcess:
    """A `bench.fanout_clients` process, driven one JSON line at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, ws_url: str, log: Path) -> ClientProcess:
        with log.open("ab") as errors:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.fanout_clients",
                ws_url,
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors,
            )
        return cls(process)

    async def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            raise BenchError(f"a client process exited ({self.process.returncode})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def stop(self) -> None:
        if self.process.returncode is None and self.process.stdin is not None:
            with contextlib.suppress(ConnectionError):
                self.process.stdin.write(b'{"cmd": "quit"}\n')
                self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


class Fanout:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
        self.server: ManagedServer | None = None
        self.clients: list[ClientProcess] = []
        self.result = FanoutResult(args.workers, args.processes, args.target_ms)
        self.probe_index = 0

    async def execute(self) -> None:
        floors = await self._floors()
        env = service_env(database_url=self.args.database_url, redis_url=self.args.redis_url)
        if not self.args.no_setup:
            await ensure_database(self.args.database_url)
            await load_demo_city(env=env, cwd=self.workdir)
        self.server = ManagedServer(env=env, cwd=self.workdir, workers=self.args.workers)
        self.server.start()
        await wait_healthy(self.server.url, timeout=HEALTH_WAIT_SECONDS, server=self.server)
        token = await mint_token(env=env, cwd=self.workdir, squad=PROBE_SQUAD)
        ws_url = self.server.url.replace("http://", "ws://", 1) + f"/ws?token={token}"
        self.clients = list(
            await asyncio.gather(
                *(
                    ClientProcess.start(ws_url, self.workdir / f"clients-{i}.log")
                    for i in range(self.args.processes)
                )
            )
        )
        async with (
            httpx.AsyncClient(base_url=self.server.url, timeout=30, trust_env=False) as http,
            connect(ws_url, open_timeout=30, max_size=2**22, proxy=None) as watcher,
        ):
            held = 0
            for target in self.args.steps:
                await self._grow(target - held)
                step = await self._step(target, http, watcher)
                step.floor_to_all_ms = floors.get(target, {})
                held = step.held
                self.result.steps.append(step)

    async def _floors(self) -> dict[int, Millis]:
        """Per step, from the bare broadcaster's write loop to the last copy received."""
        broadcaster = Broadcaster()
        url = await broadcaster.start()
        self.clients = list(
            await asyncio.gather(
                *(
                    ClientProcess.start(url, self.workdir / f"clients-{i}.log")
                    for i in range(self.args.processes)
                )
            )
        )
        floors: dict[int, Millis] = {}
        held, event_id = 0, 0
        try:
            for target in self.args.steps:
                await self._grow(target - held)
                held = len(broadcaster.connections)
                times = []
                for _ in range(FLOOR_PROBES):
                    event_id += 1
                    sent_at = broadcaster.broadcast(event_id)
                    copies, _, late = await self._arrivals(event_id, held)
                    if copies >= held and late is not None:
                        times.append(late - sent_at)
                    await asyncio.sleep(0.2)
                floors[target] = summary_ms(times)
        finally:
            await asyncio.gather(*(c.stop() for c in self.clients), return_exceptions=True)
            self.clients = []
            await broadcaster.stop()
        return floors

    async def _grow(self, count: int) -> None:
        share, extra = divmod(max(0, count), len(self.clients))
        await asyncio.gather(
            *(
                client.ask({"cmd": "open", "count": share + (i < extra)})
                for i, client in enumerate(self.clients)
            )
        )

    async def _step(self, target: int, http: httpx.AsyncClient, watcher: Any) -> Step:
        answers = await asyncio.gather(*(c.ask({"cmd": "report", "ids": []}) for c in self.clients))
        held = sum(a["held"] for a in answers)
        opened = await asyncio.gather(*(c.ask({"cmd": "open", "count": 0}) for c in self.clients))
        failed = sum(a["failed"] for a in opened)
        failure = next((a["first_failure"] for a in opened if a["first_failure"]), None)
        first, last, reached_all, missing = [], [], 0, 0
        pgid = self.server.pgid if self.server else None
        before, started = cpu.snapshot(pgid), time.monotonic()
        for _ in range(self.args.probes):
            event_id, sent_at = await self._probe(http, watcher)
            copies, early, late = await self._arrivals(event_id, held)
            missing += max(0, held - copies)
            if copies >= held and early is not None and late is not None:
                reached_all += 1
                first.append(early - sent_at)
                last.append(late - sent_at)
            await asyncio.sleep(self.args.pause)
        usage = cpu.usage(before, cpu.snapshot(pgid), time.monotonic() - started)
        return Step(
            server_rss_mb=cpu.rss_mb(pgid) if pgid is not None else None,
            target=target,
            held=held,
            failed=failed,
            first_failure=failure,
            probes=self.args.probes,
            reached_all=reached_all,
            copies_missing=missing,
            post_to_first_ms=summary_ms(first),
            post_to_all_ms=summary_ms(last),
            spread_ms=summary_ms(b - a for a, b in zip(first, last, strict=True)),
            server_cpu_pct=usage.get("server"),
            machine_pct=usage.get("machine"),
        )

    async def _probe(self, http: httpx.AsyncClient, watcher: Any) -> tuple[int, float]:
        """Post one tip; the id of its `clue.dispatched` event and when it was sent."""
        rng = random.Random(self.probe_index)
        form = {
            "service_code": PROBE_MATTER,
            "lat": f"{PROBE_DISTRICT.lat + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES):.6f}",
            "long": f"{PROBE_DISTRICT.lon + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES):.6f}",
            "description": f"扇出探测 {self.probe_index}",
        }
        self.probe_index += 1
        sent_at = time.perf_counter()
        response = await http.post(INTAKE, data=form)
        if response.status_code != 200:
            raise BenchError(f"probe tip refused: HTTP {response.status_code} {response.text}")
        request_id = response.json()[0]["service_request_id"]
        async with asyncio.timeout(self.args.grace):
            while True:
                message = json.loads(await watcher.recv())
                data = message.get("data", {})
                if (
                    message.get("type") == "clue.dispatched"
                    and data.get("service_request_id") == request_id
                ):
                    return int(message["id"]), sent_at

    async def _arrivals(self, event_id: int, held: int) -> tuple[int, float | None, float | None]:
        """Copies of the event received over all client processes, first and last arrival;
        waits until every held connection has it or `--grace` passes."""
        deadline = time.monotonic() + self.args.grace
        while True:
            answers = await asyncio.gather(
                *(c.ask({"cmd": "report", "ids": [event_id]}) for c in self.clients)
            )
            seen = [a["events"][str(event_id)] for a in answers if str(event_id) in a["events"]]
            copies = sum(int(s[0]) for s in seen)
            if copies >= held or time.monotonic() > deadline:
                early = min((s[1] for s in seen), default=None)
                late = max((s[2] for s in seen), default=None)
                return copies, early, late
            await asyncio.sleep(REPORT_EVERY)

    async def close(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.clients), return_exceptions=True)
        if self.server is not None:
            await self.server.stop()


async def run(args: argparse.Namespace) -> FanoutResult:
    bench = Fanout(args)
    try:
        try:
            async with asyncio.timeout(args.timeout) as limit:
                await bench.execute()
        except TimeoutError:
            if not limit.expired():
                raise
            bench.result.timed_out = True
        finally:
            await bench.close()
        if bench.server is not None:
            problems, sample = bench.server.log_problems()
            if problems:
                bench.result.notes.append(f"server logged {problems} problems: {sample[:2]}")
        return bench.result
    finally:
        shutil.rmtree(bench.workdir, ignore_errors=True)


def _steps(text: str) -> list[int]:
    try:
        steps = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--steps must be numbers, got {text!r}") from None
    if not steps or steps != sorted(steps) or steps[0] < 1:
        raise argparse.ArgumentTypeError("--steps must be increasing counts of at least 1")
    return steps


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description="Hold many websocket connections; time one event reaching all of them.",
    )
    add = parser.add_argument
    add("--steps", type=_steps, default=[1000, 5000, 10000], help="connections per step")
    add("--processes", type=int, default=4, help="client processes (default 4)")
    add("--workers", type=int, default=2, help="server worker processes (default 2)")
    add("--probes", type=int, default=5, help="events timed per step (default 5)")
    add("--pause", type=float, default=0.5, help="seconds between probes (default 0.5)")
    add("--grace", type=float, default=10.0, help="seconds to wait for every copy (default 10)")
    add("--target-ms", type=float, default=250.0, help="pass mark (default 250 ms)")
    add("--timeout", type=float, default=300.0, help="hard limit of the run (default 300 s)")
    add("--database-url", default=DEFAULT_DATABASE_URL)
    add("--redis-url", default=DEFAULT_REDIS_URL)
    add("--no-setup", action="store_true", help="skip create/migrate/import of the database")
    add("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.processes < 1 or args.workers < 1 or args.probes < 1:
        parser.error("--processes, --workers and --probes must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    raise_open_file_limit(args.steps[-1] + SPARE_FILES)  # the server inherits it
    try:
        result = run_fast(run(args))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(result.table())
    if args.json:
        result.write_json(args.json)
    raise SystemExit(0 if result.passed else 1)


if __name__ == "__main__":
    main()
