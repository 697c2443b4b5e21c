"""The database's ceiling: `pgbench` running the very transaction the service issues per tip.

    python -m bench.ceiling [--clients 8,32] [--seconds 8] [--json FILE]

The statements are not written out by hand: `capture` runs real Open311 intakes through
the service's own code (`open311.intake.create_request`, as `POST /open311/v2/requests`
does) against the bench database, records every statement SQLAlchemy sends to psycopg
with its parameters, and rolls back. Each captured transaction becomes a pgbench script
with the same statement texts and parameters, except:

- the point gets a fresh random jitter of up to ±0.01° every transaction (so PostGIS
  does real lookups; the point stays inside its district);
- the clue id comes from the same `nextval('clues_id_seq')` statement, which in the
  script also formats the strings the service formats in Python from that id (the
  public code, the intake token, the events' JSON) — in the same round trip;
- parameters that were NULL are written as NULL (pgbench variables cannot be NULL).

Were the pool to ping each connection it hands out (`pool_pre_ping`, an autocommit
`SELECT 1`), the ping would be in the script too, before `BEGIN`; the service's pool
checks connections without a round trip (command_center.db.session), so there is none.

pgbench runs with `-M prepared` (psycopg prepares a statement after five executions on a
connection) at each client count of `--clients`; the best rate is the ceiling. The rows
it commits (clues, timers, outbox) are only in the bench database; its outbox rows are
deleted and its clues cancelled afterwards, so no server may run on that database during
this (`python -m bench` orders it so).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event

from bench import cpu
from bench.server import (
    DEFAULT_DATABASE_URL,
    BenchError,
    ensure_database,
    libpq_env,
    load_demo_city,
    require_loopback,
    reset_workloads,
)
from bench.tips import DISTRICTS, SERVICE_CODES
from command_center.db.session import Database
from command_center.main import dispatch_policy
from command_center.open311 import intake
from command_center.ratelimit import Limit, MemoryRateLimiter
from command_center.settings import Settings
from feeds.open311 import parse_request_form

JITTER_STEPS = 1000  # ±1000 × 0.00001° = ±0.01°, as bench.tips
NEXTVAL = "SELECT nextval('clues_id_seq')"
PING = "SELECT 1"
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_STRAY_VARIABLE = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)
_LATENCY = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)
_PROCESSED = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement as SQLAlchemy handed it to psycopg (pyformat placeholders)."""

    sql: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Captured:
    """The statements of one intake, with the values that vary from tip to tip."""

    statements: tuple[Statement, ...]
    lon: float
    lat: float
    clue_id: int
    service_request_id: str
    intake_token: str


class _Rollback(Exception):
    pass


async def capture(database_url: str, count: int) -> list[Captured]:
    """Run `count` Open311 intakes (one per district and matter in turn) through the
    service's code and roll each back; the statements each one sent."""
    settings = Settings(
        database_url=database_url,
        secret_key="capture-only-" + "0" * 32,
        _env_file=None,
    )
    database = Database.from_settings(settings, info={"dispatch_policy": dispatch_policy(settings)})
    seen: list[Statement] = []

    def statement(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        seen.append(Statement(sql, dict(params or {})))

    def marker(sql: str) -> Any:
        return lambda _conn: seen.append(Statement(sql, {}))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", marker("BEGIN"))
    if getattr(engine.pool, "_pre_ping", False):
        # The pool pings each connection it hands out (autocommit `SELECT 1`), outside
        # the cursor events: the ping is part of what the database does for each tip.
        event.listen(engine.pool, "checkout", lambda *_: seen.append(Statement(PING, {})))
    captured: list[Captured] = []
    try:
        for index in range(count):
            district = DISTRICTS[index % len(DISTRICTS)]
            code = SERVICE_CODES[index % len(SERVICE_CODES)]
            form = {
                "service_code": code,
                "lat": f"{district.lat:.6f}",
                "long": f"{district.lon:.6f}",
                "description": f"压测线索 {index}：{district.name}街面巡查发现问题，请处置",
            }
            seen.clear()
            try:
                async with database.transaction() as session:
                    result = await intake.create_request(
                        session=session,
                        form=parse_request_form(form),
                        items=list(form.items()),
                        client="127.0.0.1",
                        limiter=MemoryRateLimiter(),
                        limits=intake.Limits(Limit(1_000_000, 60), 0),
                        zone=settings.zone,
                        code_prefix=settings.public_code_prefix,
                    )
                    raise _Rollback
            except _Rollback:
                pass
            captured.append(
                Captured(
                    statements=(*seen, Statement("COMMIT", {})),
                    lon=float(form["long"]),
                    lat=float(form["lat"]),
                    clue_id=result.clue_id,
                    service_request_id=result.service_request_id,
                    intake_token=result.intake_token,
                )
            )
    finally:
        await database.dispose()
    return captured


# --- pgbench scripts ---------------------------------------------------------------------


@dataclass
class Script:
    """A pgbench script and the constant variables it needs (passed with -D)."""

    text: str
    variables: dict[str, str] = field(default_factory=dict)


def render(tip: Captured, prefix: str) -> Script:
    """The pgbench script of one captured intake; variable names start with `prefix`."""
    script = Script("")
    templates: dict[str, str] = {}  # gset column -> template variable
    id_text = str(tip.clue_id)
    code_stem = tip.service_request_id.removesuffix(f"{tip.clue_id:06d}")
    lines = [
        f"\\set {prefix}jx random(-{JITTER_STEPS}, {JITTER_STEPS})",
        f"\\set {prefix}jy random(-{JITTER_STEPS}, {JITTER_STEPS})",
        f"\\set {prefix}lon {tip.lon!r} + :{prefix}jx * 0.00001",
        f"\\set {prefix}lat {tip.lat!r} + :{prefix}jy * 0.00001",
    ]
    body: list[str] = []
    for number, stmt in enumerate(tip.statements):
        if stmt.sql in ("BEGIN", "COMMIT", PING):
            body.append(f"{stmt.sql};")
            continue
        if stmt.sql.strip() == NEXTVAL:
            body.append("@NEXTVAL@")
            continue

        def value(match: re.Match[str], number: int = number, stmt: Statement = stmt) -> str:
            name = match.group(1)
            raw = stmt.params[name]
            if raw is None:
                return "NULL"
            if name == "lon" and raw == tip.lon:
                return f":{prefix}lon"
            if name == "lat" and raw == tip.lat:
                return f":{prefix}lat"
            if isinstance(raw, int) and not isinstance(raw, bool) and raw == tip.clue_id:
                return f":{prefix}clue_id"
            if raw == tip.intake_token:
                return f":{prefix}token"
            text = _as_text(raw)
            variable = f"{prefix}s{number}_{name}"
            if tip.service_request_id in text or re.search(rf"(?<![\d.]){id_text}(?![\d.])", text):
                template = text.replace(tip.service_request_id, "@CODE@")
                template = re.sub(rf"(?<![\d.]){id_text}(?![\d.])", "@ID@", template)
                script.variables[f"{variable}_t"] = template
                templates[variable] = f"{variable}_t"
                return f":{variable}"
            script.variables[variable] = text
            return f":{variable}"

        sql = _PLACEHOLDER.sub(value, stmt.sql).replace("%%", "%")
        body.append(" ".join(sql.split()) + ";")
    script.variables[f"{prefix}code_stem"] = code_stem
    body = [line if line != "@NEXTVAL@" else _take_id(prefix, templates) for line in body]
    script.text = "\n".join(lines + body) + "\n"
    _check_variables(script, prefix, list(templates))
    return script


def _take_id(prefix: str, templates: dict[str, str]) -> str:
    """The service's `nextval` statement, also formatting the strings that hold the id."""
    code = (
        f"CAST(:{prefix}code_stem AS text) || CASE WHEN id < 1000000 "
        "THEN lpad(CAST(id AS text), 6, '0') ELSE CAST(id AS text) END"
    )
    columns = [f"id AS {prefix}clue_id", f"'t' || id AS {prefix}token"]
    for column, template in templates.items():
        columns.append(
            f"replace(replace(CAST(:{template} AS text), '@CODE@', {code}), "
            f"'@ID@', CAST(id AS text)) AS {column}"
        )
    return f"SELECT {', '.join(columns)} FROM ({NEXTVAL} AS id) AS taken \\gset"


def _as_text(value: Any) -> str:
    """A parameter as the text pgbench sends for it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "{" + ",".join(_array_item(item) for item in value) + "}"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _array_item(item: Any) -> str:
    if item is None:
        return "NULL"
    text = _as_text(item).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _check_variables(script: Script, prefix: str, columns: Sequence[str]) -> None:
    """Every `:name` pgbench will substitute is defined (else pgbench aborts mid-run)."""
    fixed = ("jx", "jy", "lon", "lat", "clue_id", "token")
    defined = {*script.variables, *columns, *(prefix + name for name in fixed)}
    for name in _STRAY_VARIABLE.findall(script.text):
        if name not in defined:
            raise BenchError(f"the captured SQL uses :{name}, which pgbench would not know")


# --- running pgbench ---------------------------------------------------------------------


@dataclass
class Level:
    clients: int
    tps: float
    latency_ms: float
    transactions: int
    failed: int
    cpu_pct: dict[str, float | None]


@dataclass
class CeilingResult:
    scripts: int
    statements_per_tip: int
    seconds: float
    levels: list[Level]
    sample_script: str

    @property
    def best(self) -> Level:
        return max(self.levels, key=lambda level: level.tps)

    def table(self) -> str:
        lines = [
            f"pgbench: {self.scripts} captured intakes, {self.statements_per_tip} statements "
            f"each (BEGIN … COMMIT), -M prepared, {self.seconds:g} s per level",
        ]
        for level in self.levels:
            cores = level.cpu_pct
            lines.append(
                f"  {level.clients:>3} clients  {level.tps:8.1f} tx/s  "
                f"latency {level.latency_ms:.2f} ms  failed {level.failed}  "
                f"cpu: pgbench {cores.get('pgbench') or 0:.0f}  "
                f"postgres {cores.get('postgres') or 0:.0f}  "
                f"| machine {cores.get('machine') or 0:.0f}%"
            )
        lines.append(f"ceiling {self.best.tps:.1f} tx/s ({self.best.clients} clients)")
        return "\n".join(lines)


async def measure(
    *, database_url: str, clients: Sequence[int], seconds: float, tips: int
) -> CeilingResult:
    """Capture, render, run pgbench at each client count, clean up; the rates."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise BenchError("pgbench is not on PATH (Debian: apt-get install postgresql-client)")
    captured = await capture(database_url, tips)
    workdir = Path(tempfile.mkdtemp(prefix="bench-ceiling-"))
    try:
        argv = [pgbench, "-n", "-M", "prepared", "-T", f"{seconds:g}"]
        sample = ""
        for index, tip in enumerate(captured):
            script = render(tip, prefix=f"t{index}_")
            sample = sample or script.text
            path = workdir / f"intake-{index}.sql"
            path.write_text(script.text, encoding="utf-8")
            argv += ["-f", f"{path}@1"]
            for name, text in script.variables.items():
                argv += ["-D", f"{name}={text}"]
        mark = await _outbox_mark(database_url)
        levels = []
        try:
            for count in clients:
                await reset_workloads(database_url)  # each level starts with no open clues
                levels.append(await _run_level(argv, database_url, count, seconds))
        finally:
            await _clean_up(database_url, mark)
        return CeilingResult(
            scripts=len(captured),
            statements_per_tip=len(captured[0].statements),
            seconds=seconds,
            levels=levels,
            sample_script=sample,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def _run_level(argv: list[str], database_url: str, clients: int, seconds: float) -> Level:
    env = libpq_env(database_url)
    threads = max(1, min(clients, os.cpu_count() or 1))
    full = [*argv, "-c", str(clients), "-j", str(threads)]
    process = await asyncio.create_subprocess_exec(
        *full,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group, for the CPU reading
    )
    try:
        communicate = asyncio.ensure_future(process.communicate())
        # CPU is read inside the run: pgbench's backends exit with it, taking their time.
        await asyncio.sleep(min(1.0, seconds / 4))
        before, started = cpu.snapshot(process.pid), time.monotonic()
        await asyncio.sleep(max(0.1, seconds - 2 * min(1.0, seconds / 4)))
        usage = cpu.usage(before, cpu.snapshot(process.pid), time.monotonic() - started)
        usage["pgbench"] = usage.pop("server")
        out, err = await asyncio.wait_for(communicate, timeout=seconds + 60)
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    text = out.decode(errors="replace")
    tps, latency = _TPS.search(text), _LATENCY.search(text)
    if process.returncode != 0 or tps is None or latency is None:
        tail = "\n".join((text + err.decode(errors="replace")).strip().splitlines()[-8:])
        raise BenchError(f"pgbench failed ({process.returncode}):\n{tail}")
    failed, processed = _FAILED.search(text), _PROCESSED.search(text)
    return Level(
        clients=clients,
        tps=round(float(tps.group(1)), 1),
        latency_ms=float(latency.group(1)),
        transactions=int(processed.group(1)) if processed else 0,
        failed=int(failed.group(1)) if failed else 0,
        cpu_pct=usage,
    )


def _conninfo(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


async def _outbox_mark(database_url: str) -> int:
    async with await psycopg.AsyncConnection.connect(_conninfo(database_url)) as conn:
        row = await (await conn.execute("SELECT COALESCE(max(id), 0) FROM outbox")).fetchone()
        return int(row[0]) if row else 0


async def _clean_up(database_url: str, outbox_mark: int) -> None:
    """pgbench's events never reach the log; its clues stop counting as workload."""
    async with await psycopg.AsyncConnection.connect(
        _conninfo(database_url), autocommit=True
    ) as conn:
        await conn.execute("DELETE FROM outbox WHERE id > %s", (outbox_mark,))
    await reset_workloads(database_url)


# --- command line ------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ceiling",
        description="pgbench the service's own intake transaction: the database's ceiling.",
    )
    add = parser.add_argument
    add("--clients", default="8,32", help="pgbench client counts, comma-separated (8,32)")
    add("--seconds", type=float, default=8.0, help="seconds per client count (default 8)")
    add("--tips", type=int, default=18, help="intakes captured, one script each (default 18)")
    add("--database-url", default=DEFAULT_DATABASE_URL)
    add("--no-setup", action="store_true", help="skip create/migrate/import of the database")
    add("--show-script", action="store_true", help="print the first pgbench script")
    add("--json", type=Path, help="also write the results to this file")
    return parser


def parse_clients(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--clients must be numbers, got {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("--clients needs counts of at least 1")
    return counts


async def prepare(database_url: str) -> None:
    require_loopback(database_url)
    await ensure_database(database_url)
    env = {**os.environ, "DATABASE_URL": database_url}
    env.setdefault("SECRET_KEY", "setup-only-" + "0" * 32)
    await load_demo_city(env=env, cwd=Path(tempfile.gettempdir()))


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        clients = parse_clients(args.clients)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    if args.seconds <= 0 or not 1 <= args.tips <= 200:
        parser.error("--seconds must be positive and --tips between 1 and 200")

    async def run() -> CeilingResult:
        if not args.no_setup:
            await prepare(args.database_url)
        return await measure(
            database_url=args.database_url, clients=clients, seconds=args.seconds, tips=args.tips
        )

    try:
        result = asyncio.run(run())
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if args.show_script:
        print(result.sample_script)
    print(result.table())
    if args.json:
        body = {**asdict(result), "ceiling_tps": result.best.tps}
        args.json.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
