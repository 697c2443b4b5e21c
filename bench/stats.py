"""How long the analytics take on a city-sized record: the wall screen's overview, the
indicators by department, hot spots, a monthly bulletin to PDF and an OGC items page.

    python -m bench.stats                       # 20,000 clues over 60 days
    python -m bench.stats --clues 50000 --days 90 --repeat 5

Uses its own database (`command_center_bench_stats`, created with PostGIS if missing,
rebuilt by `--fresh`), fills it once with a generated history — clue rows and their
events through the outbox and the real relay, so the log is hash-chained as in service —
and then times each query `--repeat` times in this process. Not a test: the figures
depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench.report import percentile
from bench.server import ensure_database, load_demo_city, require_loopback
from command_center.auth.scope import Scope
from command_center.db.session import Database
from command_center.hotspots import service as hotspots
from command_center.hotspots.model import Cells
from command_center.ogc import repository as ogc
from command_center.ogc.model import CollectionId
from command_center.realtime.events import iso_utc
from command_center.realtime.relay import move_batch
from command_center.reports import service as reports
from command_center.reports.model import ReportKind
from command_center.settings import Settings
from command_center.stats import service as stats
from command_center.stats.model import Dimension
from command_center.stats.periods import Period, day_of, month_of, week_of

DATABASE_URL = (
    "postgresql+psycopg://command_center:command_center@127.0.0.1:5432/command_center_bench_stats"
)
ZONE = ZoneInfo("Asia/Shanghai")
CHUNK = 500
ROOT = Path(__file__).resolve().parents[1]


def lifecycle(
    rng: random.Random, start: datetime, hours: int
) -> list[tuple[datetime, str, dict[str, Any]]]:
    """One clue's events: mostly closed in time, some late, returned, reworked, extended
    or still open."""
    deadline = start + timedelta(hours=hours)
    steps: list[tuple[datetime, str, dict[str, Any]]] = [
        (start, "clue.received", {"from": None, "to": "received", "channel": "open311"}),
        (
            start,
            "clue.dispatched",
            {"from": "received", "to": "dispatched", "deadline": iso_utc(deadline)},
        ),
    ]
    at = start
    for kind in ("accepted", "on_scene"):
        at += timedelta(minutes=rng.expovariate(1 / 15))
        steps.append((at, f"clue.{kind}", {"to": kind}))
    if rng.random() < 0.05:
        steps.append((at, "clue.returned", {"to": "returned"}))
        return steps
    if rng.random() < 0.05:
        deadline += timedelta(hours=hours)
        steps.append((at, "clue.extension_approved", {"deadline": iso_utc(deadline)}))
    at += timedelta(hours=rng.expovariate(1 / (hours * 0.6)))
    steps.append((at, "clue.handled", {"to": "handled"}))
    if rng.random() < 0.1:
        return steps  # waiting for verification
    if rng.random() < 0.04:
        steps.append(
            (
                at,
                "clue.dispatched",
                {
                    "to": "dispatched",
                    "rework": True,
                    "deadline": iso_utc(at + timedelta(hours=hours)),
                },
            )
        )
        at += timedelta(hours=1)
        steps.append((at, "clue.handled", {"to": "handled"}))
    at += timedelta(hours=rng.expovariate(1 / 2))
    steps.append((at, "clue.closed", {"to": "closed"}))
    if rng.random() < 0.3:
        steps.append(
            (at + timedelta(hours=1), "clue.rated", {"rating": rng.choice([5, 5, 5, 4, 4, 3, 2])})
        )
    return steps


async def generate(database: Database, *, clues: int, days: int, now: datetime, seed: int) -> None:
    rng = random.Random(seed)
    async with database.sessions() as session:
        matters = (
            await session.execute(
                text(
                    "SELECT m.code, m.department, m.deadline_hours, s.code AS squad FROM matters m "
                    "JOIN squads s ON s.department = m.department"
                )
            )
        ).all()
        places = (
            await session.execute(
                text(
                    "SELECT code, path, ST_X(ST_PointOnSurface(geom)) AS lon, "
                    "ST_Y(ST_PointOnSurface(geom)) AS lat FROM jurisdictions "
                    "WHERE level = 'district'"
                )
            )
        ).all()
        first_id = int((await session.execute(text("SELECT nextval('clues_id_seq')"))).scalar_one())
        await session.execute(text(f"SELECT setval('clues_id_seq', {first_id + clues})"))
        await session.commit()
    for chunk in range(0, clues, CHUNK):
        rows, events = [], []
        for n in range(chunk, min(clues, chunk + CHUNK)):
            matter, place = rng.choice(matters), rng.choice(places)
            start = now - timedelta(days=days * rng.random())
            steps = [s for s in lifecycle(rng, start, matter.deadline_hours) if s[0] < now]
            last = steps[-1]
            state = next((d["to"] for _, _, d in reversed(steps) if "to" in d), "received")
            clue_id = first_id + n
            lon = place.lon + rng.uniform(-0.02, 0.02)
            lat = place.lat + rng.uniform(-0.02, 0.02)
            closed = last[0] if state == "closed" else None
            deadline = next(d["deadline"] for _, _, d in reversed(steps) if "deadline" in d)
            rows.append(
                {
                    "id": clue_id,
                    "code": f"B{clue_id:012d}",
                    "matter": matter.code,
                    "lon": lon,
                    "lat": lat,
                    "jurisdiction": place.code,
                    "path": list(place.path),
                    "department": matter.department,
                    "state": state,
                    "squad": matter.squad,
                    "deadline": deadline,
                    "created": iso_utc(start),
                    "updated": iso_utc(last[0]),
                    "closed": iso_utc(closed) if closed else None,
                }
            )
            for at, kind, data in steps:
                events.append(
                    {
                        "at": iso_utc(at),
                        "type": kind,
                        "clue_id": clue_id,
                        "data": {"clue_id": clue_id, "squad_code": matter.squad, **data},
                        "path": list(place.path),
                        "squads": [matter.squad],
                    }
                )
        async with database.transaction() as session:
            await session.execute(INSERT_CLUES, {"rows": json.dumps(rows)})
            await session.execute(INSERT_OUTBOX, {"events": json.dumps(events)})
        while True:
            async with database.transaction() as session:
                if not await move_batch(session):
                    break
        print(f"  {min(clues, chunk + CHUNK)} clues", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    async with database.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))


INSERT_CLUES = text("""
INSERT INTO clues (id, service_request_id, channel, matter_code, location, submitted_crs,
    jurisdiction_code, jurisdiction_path, department, state, squad_code, deadline,
    created_at, updated_at, closed_at, dispatched_at)
SELECT (r->>'id')::bigint, r->>'code', 'open311', r->>'matter',
       ST_SetSRID(ST_MakePoint((r->>'lon')::float, (r->>'lat')::float), 4326), 'wgs84',
       r->>'jurisdiction', ARRAY(SELECT jsonb_array_elements_text(r->'path')),
       r->>'department', r->>'state', r->>'squad', (r->>'deadline')::timestamptz,
       (r->>'created')::timestamptz, (r->>'updated')::timestamptz,
       (r->>'closed')::timestamptz, (r->>'created')::timestamptz
FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS r
""")
INSERT_OUTBOX = text("""
INSERT INTO outbox (at, type, clue_id, data, jurisdiction_path, squad_codes)
SELECT (e.value->>'at')::timestamptz, e.value->>'type', (e.value->>'clue_id')::bigint,
       e.value->'data', ARRAY(SELECT jsonb_array_elements_text(e.value->'path')),
       ARRAY(SELECT jsonb_array_elements_text(e.value->'squads'))
FROM jsonb_array_elements(CAST(:events AS jsonb)) WITH ORDINALITY AS e(value, n) ORDER BY e.n
""")


async def timed(repeat: int, work: Callable[[], Awaitable[object]]) -> dict[str, float | None]:
    seconds = []
    for _ in range(repeat):
        began = time.perf_counter()
        await work()
        seconds.append(time.perf_counter() - began)
    seconds.sort()
    return {"p50_ms": _ms(percentile(seconds, 0.5)), "max_ms": _ms(seconds[-1])}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


async def measure(database: Database, *, now: datetime, repeat: int) -> dict[str, Any]:
    today, everything = now.astimezone(ZONE).date(), Scope()
    month = month_of(today, ZONE).previous()  # the last whole month, for the heavy figures
    results: dict[str, Any] = {}

    async def run(name: str, work: Callable[[Any], Awaitable[object]]) -> None:
        async def once() -> object:
            async with database.sessions() as session:
                return await work(session)

        results[name] = await timed(repeat, once)
        print(f"{name:<40} p50 {results[name]['p50_ms']} ms, max {results[name]['max_ms']} ms")

    def overview(period: Period) -> Callable[[Any], Awaitable[object]]:
        return lambda s: stats.overview(session=s, period=period, now=now, scope=everything)

    for label, period in (
        ("day", day_of(today, ZONE)),
        ("week", week_of(today, ZONE)),
        ("month", month_of(today, ZONE)),
    ):
        await run(f"overview ({label})", overview(period))
    await run(
        "indicators by department (last month)",
        lambda s: stats.indicators(
            session=s, period=month, now=now, scope=everything, by=Dimension.DEPARTMENT
        ),
    )
    await run(
        "indicators by district (last month)",
        lambda s: stats.indicators(
            session=s, period=month, now=now, scope=everything, by=Dimension.DISTRICT
        ),
    )
    await run(
        "hot spots, H3 res 9 (last month)",
        lambda s: hotspots.hotspots(
            session=s,
            period=month,
            now=now,
            scope=everything,
            cells=Cells.H3,
            resolution=9,
            matters=[],
            hour=None,
            weekday=None,
        ),
    )
    await run(
        "OGC open_clues, 1000 items",
        lambda s: ogc.items(
            s,
            CollectionId.OPEN_CLUES,
            scope=everything,
            zone="Asia/Shanghai",
            bbox=None,
            when=None,
            limit=1000,
            offset=0,
        ),
    )
    await run(
        "OGC open_clues, vector tile z10",
        lambda s: ogc.tile(
            s, CollectionId.OPEN_CLUES, scope=everything, zone="Asia/Shanghai", z=10, x=852, y=427
        ),
    )

    async def bulletin(session: Any) -> object:
        data = await reports.gather(
            session=session,
            kind=ReportKind.MONTHLY,
            period=month,
            now=now,
            scope=everything,
            issuer="丽水市综合行政执法指挥中心",
        )
        return await reports.render_report(data)

    await run("monthly bulletin (last month), + PDF", bulletin)
    return results


async def main(args: argparse.Namespace) -> int:
    require_loopback(args.database_url.replace("postgresql+psycopg://", "http://"))
    env = {**os.environ, "DATABASE_URL": args.database_url, "SECRET_KEY": "b" * 40}
    await ensure_database(args.database_url)
    database = Database.from_settings(Settings(database_url=args.database_url, _env_file=None))
    try:
        if args.fresh:
            async with database.engine.begin() as conn:
                await conn.execute(
                    text(
                        "DROP SCHEMA public CASCADE; CREATE SCHEMA public; CREATE EXTENSION postgis"
                    )
                )
        await load_demo_city(env=env, cwd=ROOT)
        now = datetime.now(UTC)
        async with database.sessions() as session:
            have = int((await session.execute(text("SELECT count(*) FROM clues"))).scalar_one())
        if have < args.clues:
            print(f"generating {args.clues - have} clues over {args.days} days …", file=sys.stderr)
            await generate(database, clues=args.clues - have, days=args.days, now=now, seed=have)
        async with database.sessions() as session:
            counts = (
                await session.execute(
                    text("SELECT (SELECT count(*) FROM clues), (SELECT count(*) FROM events)")
                )
            ).one()
        print(f"record: {counts[0]} clues, {counts[1]} events; {os.cpu_count()} CPUs (shared)")
        results = await asyncio.wait_for(
            measure(database, now=now, repeat=args.repeat), args.timeout
        )
        if args.json:
            figures = {"clues": counts[0], "events": counts[1], **results}
            await asyncio.to_thread(Path(args.json).write_text, json.dumps(figures, indent=2))
        return 0
    finally:
        await database.dispose()


def cli() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.stats", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--clues", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the bench database")
    parser.add_argument("--json", help="also write the figures to this file")
    raise SystemExit(asyncio.run(main(parser.parse_args())))


if __name__ == "__main__":
    cli()
