"""One scope rule everywhere (command_center/auth/scope.py): a squad that assists in a
clue (joint enforcement, 联合执法) sees it in every place that shows clues — the list, the
record, the map, the OGC collection, the export, the statistics and the hot spots — and
stops seeing it once its assignment is withdrawn."""

from __future__ import annotations

import csv
import io

import httpx

from tests.security.world import World

# Both seeded clues lie in Lishui; this box holds them.
LISHUI = "119.0,27.5,120.9,28.9"


def _assist(world: World, clue_id: int, squad: str, state: str) -> None:
    with world.connect() as conn:
        conn.execute(
            "INSERT INTO assignments (clue_id, squad_code, department, state) "
            "VALUES (%s, %s, '综合行政执法局', %s) "
            "ON CONFLICT (clue_id, squad_code) DO UPDATE SET state = EXCLUDED.state",
            (clue_id, squad, state),
        )


async def _seen(client: httpx.AsyncClient) -> dict[str, set[int]]:
    """The clue ids each kind of read shows the caller (statistics: how many)."""
    listed = (await client.get("/api/v1/clues", params={"limit": 500})).json()
    mapped = (await client.get("/api/v1/map/clues", params={"bbox": LISHUI, "zoom": 14})).json()
    collection = (await client.get("/ogc/collections/open_clues/items")).json()
    exported = (await client.get("/api/v1/exports/clues.csv")).text.removeprefix("\ufeff")
    overview = (await client.get("/api/v1/stats/overview")).json()
    spots = (await client.get("/api/v1/stats/hotspots")).json()
    return {
        "list": {c["id"] for c in listed},
        "map": {p["id"] for p in mapped["points"]},
        "ogc": {int(f["id"]) for f in collection["features"]},
        "export": {int(row["id"]) for row in csv.DictReader(io.StringIO(exported))},
        "stats": set(range(overview["received"])),
        "hotspots": set(range(spots["total"])),
    }


async def test_an_assisting_squad_sees_the_clue_everywhere_until_withdrawn(
    world: World,
) -> None:
    async with httpx.AsyncClient(
        base_url=world.url, headers=world.headers("other_squad"), timeout=30
    ) as client:
        before = await _seen(client)
        assert world.clue_a not in before["list"] | before["map"] | before["ogc"]
        assert world.clue_a not in before["export"]
        assert (await client.get(f"/api/v1/clues/{world.clue_a}")).status_code == 403

        _assist(world, world.clue_a, "QT-01", "dispatched")
        during = await _seen(client)
        for place in ("list", "map", "ogc", "export"):
            assert world.clue_a in during[place], place
        assert len(during["stats"]) == len(before["stats"]) + 1
        assert len(during["hotspots"]) == len(before["hotspots"]) + 1
        assert (await client.get(f"/api/v1/clues/{world.clue_a}")).status_code == 200

        _assist(world, world.clue_a, "QT-01", "withdrawn")
        after = await _seen(client)
        assert after == before
        assert (await client.get(f"/api/v1/clues/{world.clue_a}")).status_code == 403
