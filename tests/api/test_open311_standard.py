"""Open311 GeoReport v2 in full, JSON and XML, read by a real client (`georeport`) and
written exactly as the specification describes."""

import asyncio
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import httpx
import pytest
from georeport import GeoReport

from command_center.apikeys import service as apikeys_service
from command_center.auth.model import Role
from command_center.db.session import Database
from tests.conftest import LiveServer
from tests.support import LIANDU, QINGTIAN, post_tip, spread, tip_id


def client_for(server: LiveServer, fmt: str) -> GeoReport:
    return GeoReport(root_address=f"{server.url}/open311/v2", output_format=fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_georeport_client_reads_services_and_a_definition(
    live_server: LiveServer, fmt: str
) -> None:
    georeport = client_for(live_server, fmt)
    services = await asyncio.to_thread(georeport.get_service_list)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["CG-001"]["service_name"] == "流动摊贩占道经营"
    assert by_code["CG-001"]["group"] == "市容环境"
    assert str(by_code["CG-006"]["metadata"]).lower() == "true"
    assert str(by_code["CG-002"]["metadata"]).lower() == "false"
    definition = await asyncio.to_thread(georeport.get_service_definition, "CG-006")
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
        attributes = attributes if isinstance(attributes, list) else [attributes]
    volume = next(a for a in attributes if a["code"] == "volume")
    assert volume["datatype"] == "singlevaluelist"
    assert str(volume["required"]).lower() == "true"
    values = volume["values"] if fmt == "json" else volume["values"]["value"]
    assert {"key": "small", "name": "少量（1车以内）"} in values


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_georeport_client_reads_requests_by_id_and_by_filter(
    live_server: LiveServer, client: httpx.AsyncClient, fmt: str
) -> None:
    sid = await tip_id(client, description="桥下摆摊")
    georeport = client_for(live_server, fmt)
    one = await asyncio.to_thread(georeport.get_service_request, sid)
    assert one["service_request_id"] == sid
    assert one["status"] == "open"
    assert one["agency_responsible"] == "综合行政执法局"
    listed = await asyncio.to_thread(
        georeport.get_service_requests, service_code="CG-001", status="open"
    )
    if fmt == "xml":
        listed = listed if isinstance(listed, list) else [listed]
    assert sid in {r["service_request_id"] for r in listed}
    if fmt == "json":  # georeport 0.3.1 cannot read an empty XML list (it indexes None)
        closed_only = await asyncio.to_thread(georeport.get_service_requests, status="closed")
        assert sid not in {r["service_request_id"] for r in closed_only}


async def test_discovery_names_the_specification_and_formats(client: httpx.AsyncClient) -> None:
    body = (await client.get("/open311/v2/discovery.json")).json()
    [endpoint] = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["application/json", "text/xml"]
    xml = ElementTree.fromstring((await client.get("/open311/v2/discovery.xml")).content)
    assert [f.text for f in xml.iter("format")] == ["application/json", "text/xml"]


async def test_a_post_with_attributes_and_an_xml_answer(client: httpx.AsyncClient) -> None:
    lon, lat = spread(LIANDU)
    response = await client.post(
        "/open311/v2/requests.xml",
        data={
            "service_code": "CG-006",
            "lat": str(lat),
            "long": str(lon),
            "attribute[volume]": "medium",
            "attribute[source]": "某工地渣土车",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    request = ElementTree.fromstring(response.content).find("request")
    assert request is not None
    assert request.findtext("service_request_id")
    assert request.findtext("token")
    assert "综合行政执法局" in (request.findtext("service_notice") or "")


async def test_multi_value_attributes_are_accepted(client: httpx.AsyncClient) -> None:
    lon, lat = spread(LIANDU)
    response = await client.post(
        "/open311/v2/requests.json",
        content=(
            f"service_code=CG-011&lat={lat}&long={lon}"
            "&attribute[hours][]=noon&attribute[hours][]=night"
        ),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"attribute[volume]": "huge"}, "attribute[volume] value 'huge' is not one of"),
        ({}, "attribute[volume] is required"),
        ({"attribute[volume]": "small", "attribute[colour]": "red"}, "unknown attribute 'colour'"),
    ],
)
async def test_bad_attributes_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, fields: dict[str, str], message: str
) -> None:
    lon, lat = spread(LIANDU)
    before = (await client.get("/open311/v2/requests.json?service_code=CG-006")).json()
    response = await post_tip(client, service_code="CG-006", at=(lon, lat), exact=True, **fields)
    assert response.status_code == 400
    assert message in response.json()[0]["description"]
    after = (await client.get("/open311/v2/requests.json?service_code=CG-006")).json()
    assert len(after) == len(before)


async def test_errors_come_as_the_specification_list_in_xml_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/open311/v2/services/NOPE.xml")
    assert response.status_code == 404
    error = ElementTree.fromstring(response.content).find("error")
    assert error is not None
    assert error.findtext("code") == "404"
    assert "NOPE" in (error.findtext("description") or "")


async def test_an_unknown_jurisdiction_id_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/open311/v2/services.json?jurisdiction_id=nowhere.gov")
    assert response.status_code == 404
    assert (await client.get("/open311/v2/services.json?jurisdiction_id=331100")).status_code == 200


async def test_date_windows_are_checked(client: httpx.AsyncClient) -> None:
    too_long = await client.get(
        "/open311/v2/requests.json",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    )
    assert too_long.status_code == 400
    assert "90 days" in too_long.json()[0]["description"]
    backwards = await client.get(
        "/open311/v2/requests.json",
        params={"start_date": "2026-11-02T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"},
    )
    assert backwards.status_code == 400
    garbage = await client.get("/open311/v2/requests.json", params={"start_date": "yesterday"})
    assert garbage.status_code == 400


async def test_ids_override_every_other_filter(client: httpx.AsyncClient) -> None:
    first, second = await tip_id(client), await tip_id(client, at=QINGTIAN)
    response = await client.get(
        "/open311/v2/requests.json",
        params={
            "service_request_id": f"{first},{second}",
            "service_code": "XF-001",
            "status": "closed",
        },
    )
    assert {r["service_request_id"] for r in response.json()} == {first, second}


async def test_a_token_leads_to_its_request(client: httpx.AsyncClient) -> None:
    [answer] = (await post_tip(client)).json()
    response = await client.get(f"/open311/v2/tokens/{answer['token']}.json")
    assert response.json() == [
        {"service_request_id": answer["service_request_id"], "token": answer["token"]}
    ]
    assert (await client.get("/open311/v2/tokens/unknown.json")).status_code == 404


async def test_an_address_alone_is_located_approximately_and_queued(
    client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    response = await client.post(
        "/open311/v2/requests.json",
        data={"service_code": "CG-002", "address_string": "浙江省丽水市青田县鹤城街道某路 8 号"},
    )
    assert response.status_code == 200, response.text
    [answer] = response.json()
    assert "指挥中心调度" in answer["service_notice"]
    [request] = (
        await client.get(f"/open311/v2/requests/{answer['service_request_id']}.json")
    ).json()
    assert request["address"].startswith("浙江省丽水市青田县")
    operator = {"Authorization": f"Bearer {live_server.token(Role.OPERATOR)}"}
    queue = (await client.get("/api/v1/clues?state=received", headers=operator)).json()
    [waiting] = [c for c in queue if c["service_request_id"] == answer["service_request_id"]]
    assert waiting["queue_reason_code"] == "address_only"
    nowhere = await client.post(
        "/open311/v2/requests.json", data={"service_code": "CG-002", "address_string": "火星"}
    )
    assert nowhere.status_code == 400
    assert "send lat and long" in nowhere.json()[0]["description"]


async def test_api_keys_identify_partners_and_bad_keys_get_403(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database
) -> None:
    async with database.transaction() as session:
        _, unlimited = await apikeys_service.create(session=session, name="12345热线", rate=0)
        _, slow = await apikeys_service.create(session=session, name="slow partner", rate=1)
    assert (await post_tip(client, api_key=unlimited)).status_code == 200
    bad = await post_tip(client, api_key="cck_not-a-key")
    assert bad.status_code == 403
    assert bad.json() == [{"code": 403, "description": "invalid api_key"}]
    # 1/s in fixed one-second windows: five quick posts span at most two windows.
    answers = [await post_tip(client, api_key=slow) for _ in range(5)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited, [r.status_code for r in answers]
    assert int(limited[0].headers["retry-after"]) >= 1


async def test_status_updates_follow_the_loop_with_extended_statuses(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    sid = await tip_id(client)
    operator = live_server.token(Role.OPERATOR)
    headers = {"Authorization": f"Bearer {operator}"}
    clue = next(
        c
        for c in (await client.get("/api/v1/clues", headers=headers)).json()
        if c["service_request_id"] == sid
    )
    squad = {"Authorization": f"Bearer {live_server.token(Role.SQUAD, squad=clue['squad_code'])}"}
    for action, who in [
        ("accept", squad),
        ("arrive", squad),
        ("handle", squad),
        ("verify", headers),
        ("close", headers),
    ]:
        response = await client.post(
            f"/api/v1/clues/{clue['id']}/actions",
            json={"action": action, "note": "摊位已清理"},
            headers=who,
        )
        assert response.status_code == 200
    for fmt in ("json", "xml"):
        response = await client.get(
            f"/open311/v2/servicerequestupdates.{fmt}", params={"start_date": since}
        )
        assert response.status_code == 200
    updates = [
        u
        for u in (
            await client.get("/open311/v2/servicerequestupdates.json", params={"start_date": since})
        ).json()
        if u["service_request_id"] == sid
    ]
    assert [u["status"] for u in updates] == [
        "OPEN",
        "ACTION_SCHEDULED",
        "IN_PROGRESS",
        "IN_PROGRESS",
        "FIXED",
        "FIXED",
        "CLOSED",
    ]
    assert updates[-1]["external_status_code"] == "closed"
    assert "摊位已清理" in updates[-1]["description"]
    assert len({u["update_id"] for u in updates}) == len(updates)


async def test_raw_utf8_forms_are_read_as_utf8(client: httpx.AsyncClient) -> None:
    lon, lat = spread(LIANDU)
    body = f"service_code=CG-001&lat={lat}&long={lon}&description=人行道摆摊".encode()
    response = await client.post(
        "/open311/v2/requests.json",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    sid = response.json()[0]["service_request_id"]
    [request] = (await client.get(f"/open311/v2/requests/{sid}.json")).json()
    assert request["description"] == "人行道摆摊"
    latin = await client.post(
        "/open311/v2/requests.json",
        content="description=caf\xe9".encode("latin-1"),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert latin.status_code == 400
    assert "UTF-8" in latin.json()[0]["description"]
