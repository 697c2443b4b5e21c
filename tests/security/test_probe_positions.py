"""Issue 15, finding 1 (anonymous position reports steered dispatch), performed as the
probe did: `GET /api/v1/positions/osmand?id=phone-ld02-001&lat=48.85&lon=2.35` with no
credential moved squad LD-02 to Paris, and a tip 100 m from LD-02's base went to LD-01.

Now the OsmAnd `id` is a secret issued per member's phone (`command-center osmand-id`),
a wrong id answers exactly as an unknown one, and a position outside the city (plus
POSITION_AREA_MARGIN_KM) or a jump faster than POSITION_MAX_SPEED_KMH is stored as
suspect: it moves nobody on the wall and in dispatch. Device telemetry the same.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from command_center.settings import Settings
from tests.security.world import LIANDU_NEAR_LD01, QINGTIAN_NEAR_QT01, World, run_cli

DEMO_MEMBERS = Path(__file__).resolve().parents[2] / "demo" / "lishui" / "members.csv"
OSMAND = "/api/v1/positions/osmand"
PARIS = {"lat": "48.85", "lon": "2.35"}
NEAR_LD02_BASE = (119.8590, 28.4250)  # LD-02's base is (119.858, 28.425): 98 m away


def command_center(world: World, settings: Settings, *args: str) -> list[str]:
    """What an admin runs; the lines it prints."""
    return run_cli(world, settings, *args).strip().splitlines()


@pytest.fixture(scope="module", autouse=True)
def members(world: World, settings: Settings) -> list[str]:
    """The demo city's members and their phones, as scripts/demo imports them: each
    phone gets a secret OsmAnd id, printed this once."""
    printed = command_center(world, settings, "import", "members", str(DEMO_MEMBERS))
    issued = [line.split() for line in printed if line.count(" ") == 2 and "-" in line]
    assert [member for member, _device, _id in issued][:3] == ["LD01-001", "LD01-002", "LD02-001"]
    return printed


def issue_tracker_id(world: World, settings: Settings, member: str) -> str:
    """`command-center osmand-id MEMBER`: a new id, the last line; the old one is void."""
    return command_center(world, settings, "osmand-id", member)[-1]


def test_ids_are_printed_once_and_reissuing_voids_the_old_one(
    world: World, settings: Settings, members: list[str]
) -> None:
    first = next(line.split()[2] for line in members if line.startswith("QT01-001 "))
    params = {"lon": str(QINGTIAN_NEAR_QT01[0]), "lat": str(QINGTIAN_NEAR_QT01[1])}
    with httpx.Client(base_url=world.url, timeout=10) as client:
        assert client.get(OSMAND, params={"id": first, **params}).status_code == 200
        again = command_center(world, settings, "import", "members", str(DEMO_MEMBERS))
        assert not any(first in line for line in again), "an id was shown twice"
        second = issue_tracker_id(world, settings, "QT01-001")
        assert client.get(OSMAND, params={"id": first, **params}).status_code == 404
        assert client.get(OSMAND, params={"id": second, **params}).status_code == 200


def rows(world: World, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with world.connect() as conn:
        return conn.execute(sql, params).fetchall()


def tip_near_ld02_base(client: httpx.Client) -> str:
    form = {"service_code": "CG-001", "long": str(NEAR_LD02_BASE[0])}
    form |= {"lat": str(NEAR_LD02_BASE[1]), "description": "占道经营"}
    answer = client.post("/open311/v2/requests.json", data=form)
    assert answer.status_code == 200, answer.text
    return str(answer.json()[0]["service_request_id"])


def test_the_paris_attack_moves_no_squad_and_steers_no_tip(
    world: World, settings: Settings
) -> None:
    with httpx.Client(base_url=world.url, timeout=10) as client:
        # The probe's request, with the phone's pattern-following name as its id.
        by_name = client.get(OSMAND, params={"id": "phone-ld02-001", **PARIS})
        never_issued = client.get(OSMAND, params={"id": "phone-ld02-999", **PARIS})
        assert by_name.status_code == 404
        assert (never_issued.status_code, never_issued.content) == (404, by_name.content)
        assert "phone-ld02" not in by_name.text

        # Even the phone's real secret id cannot move it to Paris: stored as suspect.
        secret = issue_tracker_id(world, settings, "LD02-001")
        assert len(secret) >= 32 and "ld02" not in secret.lower()
        assert client.get(OSMAND, params={"id": secret, **PARIS}).status_code == 200
        assert rows(world, "SELECT suspect FROM telemetry WHERE device_id = 'phone-ld02-001'") == [
            ("outside_area",)
        ]
        assert not rows(
            world, "SELECT 1 FROM device_positions WHERE device_id = 'phone-ld02-001'"
        ), "LD-02 moved to Paris on the wall"

        # The tip 100 m from LD-02's base goes to LD-02, ranked from its base.
        code = tip_near_ld02_base(client)
    ((squad, clue_id),) = rows(
        world, "SELECT squad_code, id FROM clues WHERE service_request_id = %s", code
    )
    assert squad == "LD-02"
    ((ranking,),) = rows(
        world,
        "SELECT data->'ranking' FROM events WHERE clue_id = %s AND type = 'clue.dispatched'",
        clue_id,
    )
    (chosen,) = ranking["chosen"]
    assert chosen["squad_code"] == "LD-02"
    assert chosen["position"] == "base" and chosen["distance_m"] < 200


def test_a_jump_faster_than_a_car_is_suspect_until_the_time_makes_it_drivable(
    world: World, settings: Settings
) -> None:
    secret = issue_tracker_id(world, settings, "LD01-002")
    now = int(time.time())
    start, far = LIANDU_NEAR_LD01, QINGTIAN_NEAR_QT01  # 50 km apart, both in the city

    def report(at: int, where: tuple[float, float]) -> None:
        params = {"id": secret, "lon": str(where[0]), "lat": str(where[1]), "timestamp": at}
        assert client.get(OSMAND, params=params).status_code == 200

    def where_on_the_wall() -> tuple[float, float]:
        answer = client.get("/api/v1/devices", headers=world.headers("operator"))
        (device,) = [d for d in answer.json() if d["id"] == "phone-ld01-002"]
        return device["position"]["location"]["lon"], device["position"]["location"]["lat"]

    with httpx.Client(base_url=world.url, timeout=10) as client:
        report(now - 7200, start)
        report(now - 7140, far)  # 50 km in a minute: 3,000 km/h
        assert where_on_the_wall() == start
        report(now, far)  # 50 km in two hours: believed
        assert where_on_the_wall() == far
    verdicts = rows(
        world,
        "SELECT suspect FROM telemetry WHERE device_id = 'phone-ld01-002' ORDER BY at",
    )
    assert verdicts == [(None,), ("too_fast",), (None,)]


def test_device_telemetry_from_paris_is_stored_as_suspect_and_moves_nothing(
    world: World,
) -> None:
    with httpx.Client(base_url=world.url, timeout=10) as client:
        answer = client.post(
            "/api/v1/telemetry",
            json={"lon": 2.35, "lat": 48.85},
            headers=world.headers("device"),
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["moved"] is False and answer.json()["suspect"] == 1
    ((lon, lat),) = rows(
        world,
        "SELECT ST_X(position), ST_Y(position) FROM device_positions WHERE device_id = %s",
        "CAM-LD-01",
    )
    assert (round(lon, 4), round(lat, 4)) == LIANDU_NEAR_LD01
