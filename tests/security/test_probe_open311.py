"""Issue 15, finding 2 (the public Open311 list published what it should not), performed
as the probe did: anonymous `GET /open311/v2/requests.json` returned every clue — grid
workers' reports and hotline tickets included — with the text as typed ("call me
13911112222", "我叫张三 住3栋") and exact coordinates, while the progress view left the
description out.

Now there is one public view (command_center/publicview/model.py): only the channels of
OPEN311_PUBLIC_CHANNELS, personal data masked, positions snapped to
PUBLIC_LOCATION_PRECISION_M, an operator's moderation on top; the progress view shows the
same; a partner's api_key gets what OPEN311_PARTNER_VIEW grants.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from command_center.settings import Settings
from tests.security.world import World, run_cli, security_env
from tests.servers import Serve

LIST = "/open311/v2/requests.json"
RESIDENT_TEXT = (
    "call me 13911112222 我叫张三 住3栋 身份证 33110219800101123X "
    "卡号 6222 0212 3456 7890 123 邮箱 zhang.san@example.cn"
)
SECRETS = ("13911112222", "张三", "33110219800101123X", "6222 0212", "zhang.san@example.cn")
EXACT = (119.92213, 28.46587)  # in 莲都
GRID_TEXT = "网格员内部：店主电话13700001111"
HOTLINE_TEXT = "12345来电：市民王五反映"


@dataclass
class Seeded:
    resident: str  # service_request_id of the resident's tip
    progress: str  # its progress code
    grid: str
    hotline: str


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 111_320)


@pytest.fixture(scope="module")
def seeded(world: World, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    with httpx.Client(base_url=world.url, timeout=10) as client:
        form = {"service_code": "CG-001", "long": str(EXACT[0]), "lat": str(EXACT[1])}
        tip = client.post(LIST, data=form | {"description": RESIDENT_TEXT})
        assert tip.status_code == 200, tip.text
        resident = tip.json()[0]["service_request_id"]
        grid = client.post(
            "/api/v1/clues",
            json={"matter_code": "CG-001", "lon": 119.9251, "lat": 28.4671}
            | {"description": GRID_TEXT},
            headers=world.headers("grid_worker"),
        )
        assert grid.status_code == 201, grid.text
    tickets = tmp_path_factory.mktemp("hotline") / "tickets.csv"
    tickets.write_text(
        f"ticket_id,service_code,lat,long,description\nT-1,CG-002,28.4612,119.9277,{HOTLINE_TEXT}\n",
        encoding="utf-8",
    )
    run_cli(world, settings, "import", "clues", str(tickets), "--source", "12345")
    with world.connect() as conn:
        codes = dict(conn.execute("SELECT channel, service_request_id FROM clues").fetchall())
        (progress,) = conn.execute(
            "SELECT progress_code FROM clues WHERE service_request_id = %s", (resident,)
        ).fetchone() or ("",)
    return Seeded(resident, progress, codes["grid"], codes["hotline"])


def test_the_anonymous_list_shows_only_resident_channels_masked_and_rounded(
    world: World, seeded: Seeded
) -> None:
    answer = httpx.get(f"{world.url}{LIST}", timeout=10)
    assert answer.status_code == 200
    listed = {r["service_request_id"]: r for r in answer.json()}
    assert seeded.resident in listed
    assert seeded.grid not in listed and seeded.hotline not in listed
    for secret in (*SECRETS, "13700001111", "王五", "网格员内部"):
        assert secret not in answer.text, f"{secret} is public"
    tip = listed[seeded.resident]
    assert "***" in tip["description"] and "住3栋" in tip["description"]
    shown = (tip["long"], tip["lat"])
    assert shown != EXACT and 1 < distance_m(shown, EXACT) < 100
    for internal in (seeded.grid, seeded.hotline):
        detail = httpx.get(f"{world.url}/open311/v2/requests/{internal}.json", timeout=10)
        assert detail.status_code == 404
    xml = httpx.get(f"{world.url}/open311/v2/requests.xml", timeout=10).text
    assert "13911112222" not in xml and seeded.grid not in xml


def test_the_progress_view_is_the_same_public_view(world: World, seeded: Seeded) -> None:
    [detail] = httpx.get(
        f"{world.url}/open311/v2/requests/{seeded.resident}.json", timeout=10
    ).json()
    progress = httpx.get(f"{world.url}/api/v1/public/clues/{seeded.progress}", timeout=10)
    assert progress.status_code == 200
    body = progress.json()
    for key in ("description", "lat", "long", "status", "address"):
        assert body[key] == detail[key], key
    assert not any(secret in progress.text for secret in SECRETS)


def test_an_operator_edits_and_hides_the_public_text_and_the_record_shows_it(
    world: World, seeded: Seeded
) -> None:
    with world.connect() as conn:
        (clue_id,) = conn.execute(
            "SELECT id FROM clues WHERE service_request_id = %s", (seeded.resident,)
        ).fetchone() or (None,)
    url = f"{world.url}/api/v1/clues/{clue_id}/moderation"
    operator = world.headers("operator")
    edit = {"public_description": "路边占道经营", "reason": "去掉住址"}
    assert httpx.post(url, json=edit, headers=world.headers("squad"), timeout=10).status_code == 403
    edited = httpx.post(url, json=edit, headers=operator, timeout=10)
    assert edited.status_code == 200, edited.text
    assert edited.json()["public_description"] == "路边占道经营"
    [detail] = httpx.get(
        f"{world.url}/open311/v2/requests/{seeded.resident}.json", timeout=10
    ).json()
    assert detail["description"] == "路边占道经营"
    page = httpx.get(f"{world.url}/track/{seeded.progress}", timeout=10).text
    assert '<p class="description">路边占道经营</p>' in page  # the reporter's page too

    hidden = httpx.post(url, json={"hidden": True, "reason": "涉及隐私"}, headers=operator)
    assert hidden.status_code == 200 and hidden.json()["public_hidden"] is True
    assert seeded.resident not in httpx.get(f"{world.url}{LIST}", timeout=10).text
    gone = httpx.get(f"{world.url}/open311/v2/requests/{seeded.resident}.json", timeout=10)
    assert gone.status_code == 404
    progress = httpx.get(f"{world.url}/api/v1/public/clues/{seeded.progress}", timeout=10)
    assert progress.status_code == 200 and progress.json()["description"] is None
    page = httpx.get(f"{world.url}/track/{seeded.progress}", timeout=10).text
    assert 'class="description"' not in page and "路边占道经营" not in page

    events = httpx.get(
        f"{world.url}/api/v1/clues/{clue_id}/events", headers=operator, timeout=10
    ).json()
    moderated = [e for e in events if e["type"] == "clue.moderated"]
    assert [e["data"]["reason"] for e in moderated] == ["去掉住址", "涉及隐私"]
    assert moderated[0]["data"]["by"]["role"] == "operator"
    assert "13911112222" not in str(moderated)
    record = httpx.get(f"{world.url}/api/v1/clues/{clue_id}", headers=operator).json()
    assert record["public_hidden"] is True
    restored = httpx.post(url, json={"reason": "已核实"}, headers=operator)
    assert restored.status_code == 200 and restored.json()["public_hidden"] is False


@pytest.fixture(scope="module")
def full_partner_server(
    world: World, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Serve]:
    env = security_env(settings, world.cluster.url(world.database), OPEN311_PARTNER_VIEW="full")
    log = tmp_path_factory.mktemp("partner") / "server.log"
    server = Serve(env, workers=1, log=log)
    server.start()
    yield server
    server.stop()


def test_a_partner_key_sees_what_the_setting_grants(
    world: World, settings: Settings, seeded: Seeded, full_partner_server: Serve
) -> None:
    key = run_cli(world, settings, "apikey", "create", "区网格平台").strip().splitlines()[-1]
    # default OPEN311_PARTNER_VIEW=public: the key changes nothing
    anonymous = httpx.get(f"{world.url}{LIST}", timeout=10).json()
    partner = httpx.get(f"{world.url}{LIST}", params={"api_key": key}, timeout=10).json()
    assert partner == anonymous
    wrong = httpx.get(f"{world.url}{LIST}", params={"api_key": "guess"}, timeout=10)
    assert wrong.status_code == 403
    # OPEN311_PARTNER_VIEW=full: every channel, the text as typed, exact positions
    url = f"{full_partner_server.url}{LIST}"
    full = {r["service_request_id"]: r for r in httpx.get(url, params={"api_key": key}).json()}
    assert full[seeded.grid]["description"] == GRID_TEXT
    assert (full[seeded.resident]["long"], full[seeded.resident]["lat"]) == EXACT
    still_public = httpx.get(url, timeout=10).text
    assert seeded.grid not in still_public and "13911112222" not in still_public
