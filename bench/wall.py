"""The wall screen with many open clues: how fast it opens and redraws in headless
Chromium, and how long an intake takes to appear on it.

    python -m bench.wall [--clues 100000] [--tips 20] [--json FILE]

Uses its own database `command_center_bench_wall` (created, migrated and loaded with the
Lishui demo city unless `--no-setup`), fills it with `--clues` open clues spread over the
city (straight into the table: this measures the wall, not intake), starts
`command-center serve` on a free loopback port and opens `/console/wall` at 1920×1080
with an operator's token. Bounded by `--timeout` seconds; stops the server and the
browser by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import psycopg
from playwright.async_api import Page, async_playwright

from bench.server import (
    HEALTH_WAIT_SECONDS,
    BenchError,
    ManagedServer,
    ensure_database,
    load_demo_city,
    require_loopback,
    wait_healthy,
)
from command_center.auth import tokens
from command_center.auth.model import Role

DATABASE_URL = (
    "postgresql+psycopg://command_center:command_center@127.0.0.1:5432/command_center_bench_wall"
)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CITY = "118.7,27.3,120.6,28.9"
LIANDU = (119.92, 28.46)
BATCH = 25_000

# Open clues over the nine districts: 60 % around the district seats, the rest anywhere
# inside the city; states in rough proportion to a working day; a fifth overdue.
SEED = """
WITH centres AS (
    SELECT array_agg(ST_PointOnSurface(geom)) AS c FROM jurisdictions WHERE level = 'district'
),
raw AS (
    SELECT nextval('clues_id_seq') AS id,
           CASE WHEN random() < 0.6 THEN
               ST_Translate(c[1 + floor(random() * cardinality(c))::int],
                            (random() + random() + random() - 1.5) * 0.12,
                            (random() + random() + random() - 1.5) * 0.10)
           ELSE ST_SetSRID(ST_MakePoint(118.75 + random() * 1.75, 27.4 + random() * 1.4), 4326)
           END AS g,
           (ARRAY['received', 'dispatched', 'dispatched', 'dispatched', 'accepted', 'on_scene',
                  'on_scene', 'handled', 'returned'])[1 + floor(random() * 9)::int] AS state,
           'CG-00' || (1 + floor(random() * 9))::int AS matter,
           random() AS r
    FROM centres, generate_series(1, %(batch)s)
)
INSERT INTO clues (id, service_request_id, channel, matter_code, location, submitted_crs,
    jurisdiction_code, jurisdiction_path, department, state, squad_code, deadline,
    dispatched_at, created_at, updated_at, source)
SELECT raw.id, 'W' || lpad(raw.id::text, 13, '0'), 'grid', m.code, raw.g, 'wgs84',
       d.code, d.path, m.department, raw.state,
       CASE WHEN raw.state = 'received' THEN NULL ELSE sq.squad_code END,
       CASE WHEN raw.state = 'received' THEN NULL
            ELSE now() + (raw.r * 30 - 6) * interval '1 hour' END,
       now() - interval '2 hours', now() - raw.r * interval '20 hours', now(), 'bench-wall'
FROM raw
JOIN matters m ON m.code = raw.matter
JOIN LATERAL (SELECT code, path FROM jurisdictions j
              WHERE j.level = 'district' AND ST_Covers(j.geom, raw.g) LIMIT 1) AS d ON true
JOIN LATERAL (SELECT squad_code FROM squad_jurisdictions
              WHERE jurisdiction_code = d.code ORDER BY squad_code LIMIT 1) AS sq ON true
LIMIT %(limit)s
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.wall", description=__doc__)
    parser.add_argument("--clues", type=int, default=100_000, help="open clues on the map")
    parser.add_argument("--tips", type=int, default=20, help="intakes timed to the wall")
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--no-setup", action="store_true", help="database is ready; skip it")
    parser.add_argument("--timeout", type=float, default=600.0, help="the whole run, seconds")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--screenshot", type=Path, help="save the wall as it opened (PNG)")
    args = parser.parse_args(argv)
    if args.clues < 0 or args.tips < 0 or args.clues > 1_000_000:
        parser.error("--clues must be 0..1000000 and --tips non-negative")
    return args


async def seed(database_url: str, clues: int) -> float:
    """Replace the seeded clues with `clues` new ones; seconds it took."""
    started = time.monotonic()
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute("DELETE FROM clues WHERE source = 'bench-wall'")
        made = 0
        while made < clues:
            cursor = await conn.execute(SEED, {"batch": BATCH, "limit": min(BATCH, clues - made)})
            made += cursor.rowcount
        await conn.execute("VACUUM ANALYZE clues")
    return time.monotonic() - started


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1) if values else float("nan")


async def time_api(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """The map endpoint at three zooms: city (clusters), district, street level."""
    views = {
        "city z9": (CITY, 9),
        "district z12": ("119.80,28.38,120.05,28.55", 12),
        "street z15": ("119.905,28.450,119.935,28.470", 15),
    }
    found = {}
    for name, (bbox, zoom) in views.items():
        times, body = [], {}
        for _ in range(5):
            started = time.monotonic()
            answer = await http.get(
                "/api/v1/map/clues",
                params={"bbox": bbox, "zoom": zoom},
                headers={"Authorization": f"Bearer {token}"},
            )
            times.append(time.monotonic() - started)
            answer.raise_for_status()
            body = answer.json()
        found[name] = {
            "median_ms": median_ms(times),
            "mode": body["mode"],
            "clues": body["total"],
            "drawn": len(body["clusters"]) + len(body["points"]),
            "bytes": len(answer.content),
        }
    return found


async def open_wall(page: Page, url: str) -> dict[str, Any]:
    started = time.monotonic()
    await page.goto(url)
    await page.wait_for_selector("body[data-state=ready]", timeout=60_000)
    opened = time.monotonic() - started
    timing = await page.evaluate("""() => {
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        return {fcp: paint ? paint.startTime : null, ready: window.__wallReady,
                markers: document.querySelectorAll('.leaflet-marker-icon').length};
    }""")
    return {
        "first_paint_ms": round(timing["fcp"], 1) if timing["fcp"] else None,
        "map_ready_ms": round(timing["ready"], 1),
        "ready_wall_clock_s": round(opened, 2),
        "markers_drawn": timing["markers"],
    }


async def zooms(page: Page) -> dict[str, Any]:
    """Zoom in and out: time from the zoom to the redrawn clues, measured in the page
    (it includes the wall's 120 ms debounce of map moves)."""
    times = []
    for zoom in (10, 11, 12, 13, 12, 11, 10, 9):
        elapsed = await page.evaluate(
            """(zoom) => new Promise((resolve) => {
                const map = window[CC.config.map.var], before = window.__wallLoads;
                const started = performance.now();
                map.setZoom(zoom, {animate: false});
                const check = () => window.__wallLoads > before
                    ? resolve(performance.now() - started) : setTimeout(check, 2);
                check();
            })""",
            zoom,
        )
        times.append(elapsed / 1000)
    return {"redraw_median_ms": median_ms(times), "redraw_max_ms": round(max(times) * 1000, 1)}


async def intakes(page: Page, http: httpx.AsyncClient, tips: int) -> dict[str, Any]:
    """Post tips through Open311; from the POST to the clue drawn on the wall."""
    delays = []
    for n in range(tips):
        lon = LIANDU[0] + random.uniform(-0.05, 0.05)
        lat = LIANDU[1] + random.uniform(-0.04, 0.04)
        sent = time.time()
        answer = await http.post(
            "/open311/v2/requests.json",
            data={"service_code": "CG-010", "long": f"{lon:.6f}", "lat": f"{lat:.6f}"},
        )
        answer.raise_for_status()
        code = answer.json()[0]["service_request_id"]
        await page.wait_for_function(f"window.__wallSeen['{code}']", timeout=10_000)
        seen = await page.evaluate(f"window.__wallSeen['{code}']") / 1000
        delays.append(seen - sent)
        if n % 5 == 4:
            await asyncio.sleep(0.5)
    ordered = sorted(delays)
    return {
        "tips": tips,
        "p50_ms": median_ms(ordered),
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    require_loopback(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-wall-"))
    secret = secrets.token_urlsafe(48)
    env = dict(os.environ) | {
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": secret,
        "EVENT_CHANNEL": f"command_center:bench-wall:{os.getpid()}",
        "RESIDENT_REPORTS_PER_MINUTE": "100000",
        # every listener and device of the load comes from 127.0.0.1 (issue 15 caps)
        "WEBSOCKET_CONNECTIONS_PER_ADDRESS": "100000",
        "WEBSOCKET_CONNECTIONS_PER_TOKEN": "100000",
        "DEVICE_REQUESTS_PER_SECOND": "0",
        "MEDIA_DIR": str(workdir / "media"),
    }
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    require_loopback(env["REDIS_URL"].replace("redis://", "http://", 1))
    if not args.no_setup:
        await ensure_database(args.database_url)
        await load_demo_city(env=env, cwd=workdir)
    seeded = await seed(args.database_url, args.clues)
    print(f"seeded {args.clues} open clues in {seeded:.1f} s", file=sys.stderr)
    server = ManagedServer(env=env, cwd=workdir, workers=1)
    server.start()
    try:
        await wait_healthy(server.url, timeout=HEALTH_WAIT_SECONDS, server=server)
        token = tokens.mint(key=secret, role=Role.OPERATOR, subject="bench-wall")
        async with httpx.AsyncClient(base_url=server.url, timeout=60, trust_env=False) as http:
            api = await time_api(http, token)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS
                )
                try:
                    # bypass_csp: wait_for_function evaluates its predicate in the page
                    page = await browser.new_page(
                        viewport={"width": 1920, "height": 1080}, bypass_csp=True
                    )
                    wall = await open_wall(page, f"{server.url}/console/wall?token={token}")
                    if args.screenshot:
                        await page.screenshot(path=str(args.screenshot))
                    redraw = await zooms(page)
                    intake = await intakes(page, http, args.tips)
                finally:
                    await browser.close()
        problems, sample = server.log_problems()
    finally:
        await server.stop()
    return {
        "clues": args.clues,
        "seed_s": round(seeded, 1),
        "api": api,
        "wall": wall | redraw,
        "intake_to_wall": intake,
        "server_log_problems": problems,
        "server_log_sample": sample,
        "cores": os.cpu_count(),
    }


def report(result: dict[str, Any]) -> str:
    lines = [f"open clues               {result['clues']}"]
    for name, view in result["api"].items():
        lines.append(
            f"GET /api/v1/map/clues    {name:<13} {view['median_ms']:>7} ms  {view['mode']:<8} "
            f"{view['clues']} clues as {view['drawn']} marks, {view['bytes'] // 1024} KiB"
        )
    wall, intake = result["wall"], result["intake_to_wall"]
    lines += [
        f"wall first paint         {wall['first_paint_ms']} ms",
        f"wall map ready           {wall['map_ready_ms']} ms after navigation "
        f"({wall['markers_drawn']} markers)",
        f"zoom → redrawn           median {wall['redraw_median_ms']} ms, max "
        f"{wall['redraw_max_ms']} ms",
        f"intake → on the wall     p50 {intake['p50_ms']} ms, max {intake['max_ms']} ms "
        f"({intake['tips']} tips)",
        f"server log               {result['server_log_problems']} problems",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        result = asyncio.run(asyncio.wait_for(run(args), timeout=args.timeout))
    except TimeoutError:
        print(f"error: TIMED OUT after {args.timeout:.0f} s", file=sys.stderr)
        raise SystemExit(1) from None
    except (BenchError, RuntimeError, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
