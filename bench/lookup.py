"""Benchmark: jurisdiction lookup with 100,000 grid cells loaded.

    python -m bench.lookup [--cells 100000] [--sessions 8] [--seconds 5]

Prepares its own database (command_center_bench_grid): the Lishui demo city and, under
its nine districts, `--cells` square grid cells (单元网格, about 400 m a side), written
as a GeoJSON file and loaded with `command-center import jurisdictions` as a city's GIS
department would (once; a later run finds them there). Then, over `--seconds` each:

- the service's lookup — `dispatch.repository.place`, the statement intake runs first
  (`ST_Covers` over the GiST index, the deepest level and smallest area) — called in
  `--sessions` concurrent sessions (each one open transaction, as in intake) through the
  service's own database layer, for random points spread uniformly over the city's
  bounding box;
- the ceiling — pgbench running that very statement (its text is taken from the module)
  with random points from the same box, `-M prepared`, as many clients.

Reports lookups per second, latency, and how many points found a grid cell (every point
inside a cell must; the rest of the box is outside the cells or the city).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
from shapely.geometry import box, shape
from shapely.prepared import prep

from bench import cpu
from bench.report import Millis, summary_ms
from bench.server import (
    DEFAULT_DATABASE_URL,
    DEMO,
    BenchError,
    ensure_database,
    libpq_env,
    load_demo_city,
    run_command,
)
from command_center.db.session import Database
from command_center.dispatch import repository as dispatch_repository
from command_center.settings import Settings

DATABASE_URL = DEFAULT_DATABASE_URL.rsplit("/", 1)[0] + "/command_center_bench_grid"
MATTER = "CG-001"
_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)
_LATENCY = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Box:
    west: float
    south: float
    east: float
    north: float

    def point(self, rng: random.Random) -> tuple[float, float]:
        return rng.uniform(self.west, self.east), rng.uniform(self.south, self.north)


def _demo_features() -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads(
        (DEMO / "jurisdictions.geojson").read_text("utf-8")
    )["features"]
    return features


def city_box() -> Box:
    """The bounding box of the demo city."""
    city = next(f for f in _demo_features() if f["properties"]["level"] == "city")
    return Box(*shape(city["geometry"]).bounds)


def grid_cells(count: int) -> dict[str, Any]:
    """`count` square cells lying wholly inside the demo districts, as a FeatureCollection
    (each cell's parent is its district)."""
    districts = [
        (f["properties"]["code"], shape(f["geometry"]))
        for f in _demo_features()
        if f["properties"]["level"] == "district"
    ]
    area = city_box()
    west, south, east, north = area.west, area.south, area.east, area.north
    surface = sum(geometry.area for _, geometry in districts)
    step = math.sqrt(surface / count) * 0.97
    while True:
        cells = _lattice(districts, west, south, east, north, step)
        if len(cells) >= count:
            break
        step *= 0.97
    return {"type": "FeatureCollection", "features": cells[:count]}


def _lattice(
    districts: list[tuple[str, Any]],
    west: float,
    south: float,
    east: float,
    north: float,
    step: float,
) -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = []
    for code, geometry in districts:
        inside = prep(geometry)
        x0, y0, x1, y1 = geometry.bounds
        for i in range(int((x0 - west) / step), int((x1 - west) / step) + 1):
            for j in range(int((y0 - south) / step), int((y1 - south) / step) + 1):
                square = box(west + i * step, south + j * step, west + (i + 1) * step,
                             south + (j + 1) * step)  # fmt: skip
                if inside.contains(square):
                    cells.append(_cell(code, i, j, square))
    return cells


def _cell(parent: str, i: int, j: int, square: Any) -> dict[str, Any]:
    ring = [[round(x, 6), round(y, 6)] for x, y in square.exterior.coords]
    return {
        "type": "Feature",
        "properties": {
            "code": f"{parent}-G{i:04d}{j:04d}",
            "name": f"网格 {i}-{j}",
            "level": "grid",
            "parent_code": parent,
        },
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


@dataclass
class LookupResult:
    cells: int
    imported_s: float | None  # None: the cells were there already
    sessions: int
    seconds: float
    lookups_s: float
    latency_ms: Millis
    in_a_cell: float  # share of points that found a grid cell
    ceiling_lookups_s: float
    ceiling_latency_ms: float
    cpu_pct: dict[str, float | None]

    def table(self) -> str:
        loaded = (
            "already loaded" if self.imported_s is None else f"imported in {self.imported_s:.0f} s"
        )
        p = self.latency_ms
        return "\n".join(
            [
                f"grid cells        {self.cells} ({loaded})",
                f"service lookup    {self.lookups_s:.0f} lookups/s from {self.sessions} sessions"
                f"  p50 {p['p50']}  p99 {p['p99']}  max {p['max']} ms",
                f"pgbench ceiling   {self.ceiling_lookups_s:.0f} lookups/s "
                f"({self.sessions} clients, latency {self.ceiling_latency_ms:.2f} ms)",
                f"ratio             {self.lookups_s / max(self.ceiling_lookups_s, 1e-9):.2f}",
                f"points in a cell  {100 * self.in_a_cell:.1f}% (uniform over the city's box)",
            ]
        )


async def load_cells(database_url: str, count: int, workdir: Path) -> float | None:
    """Make sure the grid database has `count` cells; seconds the import took, or None."""
    await ensure_database(database_url)
    env = {**os.environ, "DATABASE_URL": database_url}
    env.setdefault("SECRET_KEY", "setup-only-" + "0" * 32)
    await load_demo_city(env=env, cwd=workdir)
    if await _grid_count(database_url) >= count:
        return None
    collection = grid_cells(count)
    path = workdir / "grid.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    started = time.monotonic()
    await run_command(
        ["command-center", "import", "jurisdictions", str(path)], env=env, cwd=workdir
    )
    return time.monotonic() - started


async def _grid_count(database_url: str) -> int:
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        cursor = await conn.execute("SELECT count(*) FROM jurisdictions WHERE level = 'grid'")
        row = await cursor.fetchone()
        return int(row[0]) if row else 0


async def service_lookups(
    database_url: str, area: Box, *, sessions: int, seconds: float
) -> tuple[int, list[float], int]:
    """(lookups, latencies, how many found a grid cell) through the service's code."""
    settings = Settings(database_url=database_url, secret_key="lookup-" + "0" * 32, _env_file=None)
    database = Database.from_settings(settings)
    latencies: list[float] = []
    in_cell = 0
    deadline = time.monotonic() + seconds

    async def worker(seed: int) -> None:
        # One session each, as intake runs the lookup inside its open transaction.
        nonlocal in_cell
        rng = random.Random(seed)
        async with database.sessions() as session:
            while time.monotonic() < deadline:
                lon, lat = area.point(rng)
                started = time.perf_counter()
                row = await dispatch_repository.place(
                    session, lon=lon, lat=lat, matter_code=MATTER, now=None
                )
                latencies.append(time.perf_counter() - started)
                in_cell += "-G" in (row.jurisdiction_code or "")

    try:
        await asyncio.gather(*(worker(seed) for seed in range(sessions)))
    finally:
        await database.dispose()
    return len(latencies), latencies, in_cell


def pgbench_script(area: Box) -> str:
    """The service's lookup statement, with a random point in the box each transaction."""
    steps = 1_000_000
    sql = dispatch_repository.PLACE.text.replace(":now", "NULL")
    sql = " ".join(sql.split()).replace(":matter_code", ":matter")
    return (
        f"\\set x random(0, {steps})\n\\set y random(0, {steps})\n"
        f"\\set lon {area.west!r} + :x * {(area.east - area.west) / steps!r}\n"
        f"\\set lat {area.south!r} + :y * {(area.north - area.south) / steps!r}\n"
        f"{sql};\n"
    )


async def ceiling(database_url: str, area: Box, *, clients: int, seconds: float, workdir: Path
                  ) -> tuple[float, float]:  # fmt: skip
    """(lookups/s, average latency ms) of pgbench running the lookup statement."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise BenchError("pgbench is not on PATH (Debian: apt-get install postgresql-client)")
    script = workdir / "lookup.sql"
    script.write_text(pgbench_script(area), encoding="utf-8")
    env = libpq_env(database_url)
    argv = [pgbench, "-n", "-M", "prepared", "-T", f"{seconds:g}", "-c", str(clients)]
    argv += ["-j", str(min(clients, os.cpu_count() or 1)), "-D", f"matter={MATTER}"]
    argv += ["-f", str(script)]
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=seconds + 60)
    text = out.decode(errors="replace")
    tps, latency = _TPS.search(text), _LATENCY.search(text)
    if process.returncode != 0 or tps is None or latency is None:
        tail = "\n".join((text + err.decode(errors="replace")).strip().splitlines()[-8:])
        raise BenchError(f"pgbench failed ({process.returncode}):\n{tail}")
    return float(tps.group(1)), float(latency.group(1))


async def measure(args: argparse.Namespace) -> LookupResult:
    workdir = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    try:
        imported = None
        if not args.no_setup:
            imported = await load_cells(args.database_url, args.cells, workdir)
        cells = await _grid_count(args.database_url)
        if cells < args.cells:
            raise BenchError(f"the grid database holds {cells} cells, not {args.cells}")
        area = city_box()
        before, started = cpu.snapshot(None), time.monotonic()
        count, latencies, in_cell = await service_lookups(
            args.database_url, area, sessions=args.sessions, seconds=args.seconds
        )
        elapsed = time.monotonic() - started
        usage = cpu.usage(before, cpu.snapshot(None), elapsed)
        rate, latency = await ceiling(
            args.database_url, area, clients=args.sessions, seconds=args.seconds, workdir=workdir
        )
        return LookupResult(
            cells=cells,
            imported_s=imported,
            sessions=args.sessions,
            seconds=args.seconds,
            lookups_s=round(count / elapsed, 1),
            latency_ms=summary_ms(latencies),
            in_a_cell=round(in_cell / max(count, 1), 4),
            ceiling_lookups_s=round(rate, 1),
            ceiling_latency_ms=latency,
            cpu_pct=usage,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.lookup",
        description="Jurisdiction lookup with many grid cells, against pgbench of the same SQL.",
    )
    add = parser.add_argument
    add("--cells", type=int, default=100_000, help="grid cells to load (default 100000)")
    add("--sessions", type=int, default=8, help="concurrent lookups (default 8)")
    add("--seconds", type=float, default=5.0, help="seconds per measurement (default 5)")
    add("--database-url", default=DATABASE_URL)
    add("--no-setup", action="store_true", help="use the grid database as it is")
    add("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.cells < 1 or args.sessions < 1 or args.seconds <= 0:
        parser.error("--cells, --sessions and --seconds must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        result = asyncio.run(measure(args))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(result.table())
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
