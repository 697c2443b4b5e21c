"""Benchmark: resident tips in, live dispatches out.

    python -m bench.tips [--tips N] [--listeners M] [--concurrency C] [--rate R] [--url URL]

Posts N Open311 tips over loopback while M websocket clients (squads and a few operators)
listen, and prints throughput and the tip-to-squad latency: from just before the POST
(in --rate mode: from the tip's scheduled time) to the first copy of its `clue.dispatched`
event at a listener of the squad it went to. Without --url it prepares its own database
(command_center_bench), starts `command-center serve` on a free port and stops it at the
end. The whole run is bounded by --timeout; exit status 0 means every answered tip was
delivered, 1 that some were not (or the run timed out), 2 bad usage.
See bench/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import cpu
from bench.httpclient import HttpError, LeanClient
from bench.listeners import Delivery, ListenerPool
from bench.report import Result, summary_ms
from bench.server import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    HEALTH_WAIT_SECONDS,
    BenchError,
    ManagedServer,
    ensure_database,
    load_demo_city,
    mint_token,
    require_loopback,
    run_fast,
    service_env,
    wait_healthy,
)

INTAKE = "/open311/v2/requests.json"
SERVICE_CODES = tuple(f"CG-{n:03d}" for n in range(1, 16))  # 综合行政执法局's matters
JITTER_DEGREES = 0.01  # about a kilometre; every point stays inside its district
SPARE_FILES = 256
_NONE = Delivery("", 0.0, 0.0, copies=0)


@dataclass(frozen=True, slots=True)
class District:
    name: str
    lon: float
    lat: float
    squads: tuple[str, ...]  # the on-duty squads of 综合行政执法局 serving it


DISTRICTS = (
    District("莲都", 119.8218, 28.4719, ("LD-01", "LD-02")),
    District("青田", 120.1547, 28.2108, ("QT-01",)),
    District("缙云", 120.1929, 28.6517, ("JY-01",)),
    District("遂昌", 119.0603, 28.4930, ("SC-01",)),
    District("松阳", 119.3935, 28.4157, ("SY-01",)),
    District("云和", 119.5204, 28.1426, ("YH-01",)),
    District("庆元", 119.2177, 27.5917, ("QY-01",)),
    District("景宁", 119.6482, 27.8925, ("JN-01",)),
    District("龙泉", 119.1202, 28.0493, ("LQ-01",)),
)
SQUADS = tuple(code for district in DISTRICTS for code in district.squads)


def tip_form(rng: random.Random, index: int) -> tuple[dict[str, str], District]:
    district = rng.choice(DISTRICTS)
    lon = district.lon + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES)
    lat = district.lat + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES)
    form = {
        "service_code": rng.choice(SERVICE_CODES),
        "lat": f"{lat:.6f}",
        "long": f"{lon:.6f}",
        "description": f"压测线索 {index}：{district.name}街面巡查发现问题，请处置",
    }
    return form, district


@dataclass(slots=True)
class Answered:
    sent_at: float
    round_trip: float
    squads: tuple[str, ...]


@dataclass
class Phase:
    """The tips of one phase (warm-up or measured) and how the service answered them."""

    answered: dict[str, Answered] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    first_sent: float | None = None
    last_answer: float | None = None
    sending_done: float | None = None


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stage = "starting"
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-tips-"))
        self.server: ManagedServer | None = None
        self.listeners: ListenerPool | None = None
        self.http: LeanClient | None = None
        self.phase = Phase()
        self.rng = random.Random(args.seed)
        self.bus = "?"
        self.connect_s = 0.0
        self.cpu: dict[str, float | None] = {}
        self.notes: list[str] = []
        self.timed_out = False

    # --- the run -----------------------------------------------------------------------

    async def execute(self) -> None:
        url, env = await self._service()
        self.stage = "minting tokens"
        codes: list[str | None] = [*SQUADS, None]
        minted = await asyncio.gather(
            *(mint_token(env=env, cwd=self.workdir, squad=code) for code in codes)
        )
        self.stage = "connecting listeners"
        ws_url = url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/ws"
        self.listeners = ListenerPool(
            ws_url=ws_url,
            tokens=dict(zip(codes, minted, strict=True)),
            plan=_plan(self.args.listeners, self.args.operators),
        )
        self.connect_s = await self.listeners.start()
        await self._check_listeners(url)
        limit = self.args.concurrency
        self.http = LeanClient(url, connections=limit)
        if self.args.warmup:
            self.stage = "warming up"
            warmup = Phase()
            await self._closed_loop(warmup, self.args.warmup, min(limit, self.args.warmup))
            await self._await_deliveries(warmup, grace=self.args.grace)
        self.stage = "measuring"
        before, started = cpu.snapshot(self.server.pgid if self.server else None), time.monotonic()
        if self.args.rate:
            await self._open_loop(self.phase, self.args.tips, self.args.rate)
        else:
            await self._closed_loop(self.phase, self.args.tips, self.args.concurrency)
        self.cpu = cpu.usage(
            before,
            cpu.snapshot(self.server.pgid if self.server else None),
            time.monotonic() - started,
        )
        self.stage = "waiting for the last deliveries"
        await self._await_deliveries(self.phase, grace=self.args.grace)

    async def _service(self) -> tuple[str, dict[str, str]]:
        """The base URL of the service under test and the environment for its CLI."""
        env = dict(os.environ)
        if self.args.url:
            require_loopback(self.args.url)
            for name in ("DATABASE_URL", "SECRET_KEY"):
                if not env.get(name):
                    raise BenchError(f"--url needs {name} of that server to mint tokens")
            self.stage = "checking the server"
            health = await wait_healthy(self.args.url, timeout=10)
            self.bus = str(health.get("bus", "?"))
            return self.args.url.rstrip("/"), env
        env = service_env(
            database_url=self.args.database_url,
            redis_url=self.args.redis_url if self.args.bus == "redis" else None,
        )
        if not self.args.no_setup:
            self.stage = "preparing the database"
            await ensure_database(self.args.database_url)
            await load_demo_city(env=env, cwd=self.workdir)
        self.stage = "starting the server"
        self.server = ManagedServer(env=env, cwd=self.workdir, workers=self.args.workers or 1)
        self.server.start()
        health = await wait_healthy(
            self.server.url, timeout=HEALTH_WAIT_SECONDS, server=self.server
        )
        self.bus = str(health.get("bus", "?"))
        return self.server.url, env

    async def _check_listeners(self, url: str) -> None:
        assert self.listeners is not None
        stats = self.listeners.stats
        if stats.connected == 0:
            raise BenchError(f"no listener could connect: {stats.first_failure}")
        if stats.failed:
            self.notes.append(f"{stats.failed} listeners never connected: {stats.first_failure}")
        if self.server is not None and self.server.workers == 1:
            health = await wait_healthy(url, timeout=10)
            hub = health.get("websocket_connections")
            if hub != stats.connected:
                self.notes.append(f"server hub counts {hub} connections, we hold {stats.connected}")

    async def _closed_loop(self, phase: Phase, tips: int, concurrency: int) -> None:
        """`concurrency` senders, each posting its next tip as soon as the last one answered."""
        indexes = iter(range(tips))

        async def sender() -> None:
            for index in indexes:  # shared: each index is taken by exactly one sender
                await self._post(phase, index, time.perf_counter())

        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, concurrency)):
                group.create_task(sender())
        phase.sending_done = time.perf_counter()

    async def _open_loop(self, phase: Phase, tips: int, rate: float) -> None:
        """Tip i is due at start + i/rate whatever the answers; latency counts from then."""
        start = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for index in range(tips):
                due = start + index / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                group.create_task(self._post(phase, index, due))
        phase.sending_done = time.perf_counter()

    async def _post(self, phase: Phase, index: int, sent_at: float) -> None:
        assert self.http is not None
        form, district = tip_form(self.rng, index)
        phase.sent += 1
        phase.first_sent = phase.first_sent or sent_at
        phase.in_flight += 1
        phase.peak_in_flight = max(phase.peak_in_flight, phase.in_flight)
        try:
            response = await self.http.post_form(INTAKE, form)
        except (HttpError, OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            phase.errors[type(exc).__name__] += 1
            return
        finally:
            phase.in_flight -= 1
        answered_at = time.perf_counter()
        phase.last_answer = answered_at
        if response.status != 200:
            phase.errors[f"HTTP {response.status}"] += 1
            return
        try:
            request_id = str(json.loads(response.body)[0]["service_request_id"])
        except (ValueError, LookupError, TypeError):
            phase.errors["bad body"] += 1
            return
        phase.answered[request_id] = Answered(sent_at, answered_at - sent_at, district.squads)

    async def _await_deliveries(self, phase: Phase, *, grace: float) -> None:
        """Return when every answered tip reached its squad and every operator listener,
        or after `grace` seconds."""
        assert self.listeners is not None
        deliveries, operators = self.listeners.deliveries, self.listeners.stats.operators
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if all(
                request_id in deliveries.to_squads
                and (
                    not operators
                    or deliveries.to_operators.get(request_id, _NONE).copies >= operators
                )
                for request_id in phase.answered
            ):
                return
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        """Stop listeners, client and server; bounded, safe to call at any stage."""
        if self.listeners is not None:
            await self.listeners.stop()
        if self.http is not None:
            await self.http.aclose()
        if self.server is not None:
            await self.server.stop()

    # --- the numbers -------------------------------------------------------------------

    def result(self) -> Result:
        phase = self.phase
        if self.listeners is None or phase.first_sent is None:
            raise BenchError(f"stopped while {self.stage}, before any tip was measured")
        deliveries = self.listeners.deliveries
        latencies, last, to_operators = [], [], []
        misrouted = incomplete = operator_copies = 0
        for request_id, tip in phase.answered.items():
            if (copy := deliveries.to_operators.get(request_id)) is not None:
                operator_copies += copy.copies
                to_operators.append(copy.last_at - tip.sent_at)
            seen = deliveries.to_squads.get(request_id)
            if seen is None:
                continue
            latencies.append(seen.first_at - tip.sent_at)
            last.append(seen.last_at - tip.sent_at)
            misrouted += seen.squad_code not in tip.squads
            incomplete += seen.copies < self.listeners.per_squad[seen.squad_code]
        end = phase.last_answer or phase.sending_done or time.perf_counter()
        elapsed = max(end - phase.first_sent, 1e-9)
        operators = self.listeners.stats.operators
        problems, sample = self.server.log_problems() if self.server else (None, [])
        stats = self.listeners.stats
        if self.timed_out:
            self.notes.append(f"the {self.args.timeout:.0f} s limit struck while {self.stage}")
        return Result(
            mode=self._mode(),
            tips_sent=phase.sent,
            peak_in_flight=phase.peak_in_flight,
            ok=len(phase.answered),
            errors=dict(phase.errors),
            elapsed_s=round(elapsed, 3),
            throughput_tips_s=round(len(phase.answered) / elapsed, 1),
            delivered=len(latencies),
            missing=len(phase.answered) - len(latencies),
            latency_ms=summary_ms(latencies),
            last_listener_ms=summary_ms(last),
            post_ms=summary_ms(tip.round_trip for tip in phase.answered.values()),
            fanout_incomplete=incomplete,
            wrong_squad=deliveries.wrong_squad,
            misrouted=misrouted,
            operator_ms=summary_ms(to_operators),
            operator_copies=operator_copies,
            operator_copies_expected=len(phase.answered) * operators,
            listeners=stats.planned,
            listeners_connected=stats.connected,
            listeners_failed=stats.failed,
            operators=self.args.operators,
            reconnects=stats.reconnects,
            close_codes={str(code): n for code, n in stats.close_codes.items()},
            connect_s=round(self.connect_s, 2),
            workers=str(self.server.workers) if self.server else "? (server not ours)",
            bus=self.bus,
            cpu_pct=self.cpu,
            server_log_problems=problems,
            server_log_sample=sample,
            notes=self.notes,
            timed_out=self.timed_out,
        )

    def _mode(self) -> str:
        if self.args.rate:
            return f"open loop at {self.args.rate:g} tips/s (at most {self.args.concurrency} open)"
        return f"closed loop, concurrency {self.args.concurrency}"


def _plan(listeners: int, operators: int) -> list[str | None]:
    """Operators first, then squad listeners spread round-robin over every squad."""
    squads = listeners - operators
    return [None] * operators + [SQUADS[i % len(SQUADS)] for i in range(squads)]


def raise_open_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < needed:
            print(f"warning: open files limited to {target}, want {needed}", file=sys.stderr)


async def run(args: argparse.Namespace) -> Result:
    bench = Bench(args)
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, task.cancel)
    try:
        try:
            async with asyncio.timeout(args.timeout) as limit:
                await bench.execute()
        except TimeoutError:
            if not limit.expired():
                raise
            bench.timed_out = True
        finally:
            await bench.close()
        return bench.result()  # reads the server log: before the work directory goes
    finally:
        shutil.rmtree(bench.workdir, ignore_errors=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tips",
        description="Post resident tips and time their dispatch to squads' websockets.",
    )
    add = parser.add_argument
    add("--tips", type=int, default=2000, help="tips to measure (default 2000)")
    add("--listeners", type=int, default=200, help="websocket connections (default 200)")
    add(
        "--operators",
        type=int,
        default=None,
        help="of the listeners, operators (default min(4, listeners // 50))",
    )
    add(
        "--concurrency",
        type=int,
        default=32,
        help="tips in flight; in --rate mode the most open at once (default 32)",
    )
    add("--rate", type=float, default=None, help="open loop at this many tips/s")
    add("--url", help="use this running server (loopback) instead of starting one")
    add("--workers", type=int, default=None, help="server worker processes (default 1)")
    add("--bus", choices=["redis", "local"], default="redis", help="event bus (default redis)")
    add("--database-url", default=DEFAULT_DATABASE_URL, help="database of the started server")
    add("--redis-url", default=DEFAULT_REDIS_URL)
    add("--no-setup", action="store_true", help="skip create/migrate/import of the database")
    add("--warmup", type=int, default=20, help="unmeasured tips sent first (default 20)")
    add(
        "--grace",
        type=float,
        default=10.0,
        help="seconds to wait for the last deliveries (default 10)",
    )
    add("--timeout", type=float, default=120.0, help="hard limit of the whole run (default 120)")
    add("--seed", type=int, default=1, help="random seed of tip places and matters")
    add("--json", type=Path, help="also write the results to this file")
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.operators is None:
        args.operators = min(4, args.listeners // 50)
    problems = [
        ("--tips must be at least 1", args.tips < 1),
        ("--concurrency must be at least 1", args.concurrency < 1),
        ("--rate must be positive", args.rate is not None and args.rate <= 0),
        ("--workers must be at least 1", args.workers is not None and args.workers < 1),
        ("--workers does not apply to --url", bool(args.url and args.workers)),
        ("--timeout and --grace must be positive", args.timeout <= 0 or args.grace <= 0),
        (
            "--operators must be between 0 and --listeners",
            not 0 <= args.operators <= args.listeners,
        ),
        (
            f"--listeners must leave one per squad ({len(SQUADS)}) besides the operators",
            args.listeners - args.operators < len(SQUADS),
        ),
    ]
    for message, wrong in problems:
        if wrong:
            parser.error(message)
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    raise_open_file_limit(args.listeners + args.concurrency + SPARE_FILES)
    try:
        result = run_fast(run(args))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; cleaned up", file=sys.stderr)
        raise SystemExit(130) from None
    print(result.table())
    if args.json:
        result.write_json(args.json)
    raise SystemExit(0 if result.passed else 1)


if __name__ == "__main__":
    main()
