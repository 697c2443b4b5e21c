"""The resident mini-program: a tip with photos, progress by code, QR codes, a rating
once, reopening on dissatisfaction, and limits that refuse floods and fakes."""

import asyncio
import hashlib
import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from gis.crs import wgs84_to_gcj02
from tests.conftest import LiveServer, start_server
from tests.support import LIANDU, clue_events, collect, listen, spread


def jpeg_with_position() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (28.0, 28.0, 19.0), 3: "E", 4: (119.0, 49.0, 18.0)}
    out = io.BytesIO()
    Image.new("RGB", (320, 240), "orange").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


async def send_tip(
    client: httpx.AsyncClient, photos: list[tuple[str, bytes, str]] | None = None, **fields: str
) -> httpx.Response:
    lon, lat = wgs84_to_gcj02(*spread(LIANDU))  # the mini-program sends GCJ-02
    data = {
        "service_code": "CG-001",
        "lon": str(lon),
        "lat": str(lat),
        "device_id": "wx-1",
        **fields,
    }
    files = [("photos", photo) for photo in photos or []]
    return await client.post("/api/v1/public/tips", data=data, files=files or None)


async def test_a_tip_with_a_photo_is_tracked_by_code_and_the_photo_loses_its_position(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    original = jpeg_with_position()
    response = await send_tip(
        client,
        photos=[("street.jpg", original, "image/jpeg")],
        description="占道卖菜",
        phone="13800138000",
    )
    assert response.status_code == 201, response.text
    tip = response.json()
    code, secret = tip["progress_code"], tip["secret"]
    assert tip["progress_url"].endswith(f"/track/{code}")
    case = tip["service_request_id"]
    assert (await client.get(f"/api/v1/public/clues/{case}")).status_code == 404

    # the history comes from the event log, which the relay fills a moment after the commit
    for _ in range(50):
        public = (await client.get(f"/api/v1/public/clues/{code}")).json()
        if len(public["history"]) >= 2:
            break
        await asyncio.sleep(0.1)
    assert public["status"] == "open"
    assert [h["status"] for h in public["history"]][:2] == ["OPEN", "ACTION_SCHEDULED"]
    assert "rating" not in public and "phone" not in public  # the code alone: public view
    mine = (
        await client.get(f"/api/v1/public/clues/{code}", headers={"X-Tracking-Secret": secret})
    ).json()
    assert mine["phone"] == "138****8000"
    assert mine["can_rate"] is False

    [photo_url] = public["photos"]
    shown = (await client.get(photo_url)).content
    assert not Image.open(io.BytesIO(shown)).getexif().get_ifd(0x8825)
    operator = {"Authorization": f"Bearer {live_server.token(Role.OPERATOR)}"}
    clue = next(
        c
        for c in (await client.get("/api/v1/clues", headers=operator)).json()
        if c["service_request_id"] == case
    )
    assert clue["reporter_phone"] == "138****8000"  # masked for everyone by default
    record = (await client.get(f"/api/v1/clues/{clue['id']}/events", headers=operator)).json()
    [evidence] = [e for e in record if e["type"] == "clue.evidence_added"]
    assert evidence["data"]["sha256"] == hashlib.sha256(original).hexdigest()
    assert "13800138000" not in str(record)


async def test_qr_codes_and_the_progress_page(client: httpx.AsyncClient) -> None:
    code = (await send_tip(client, description="占道卖菜")).json()["progress_code"]
    png = await client.get(f"/api/v1/public/clues/{code}/qr.png")
    assert png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size[0] > 100
    svg = await client.get(f"/api/v1/public/clues/{code}/qr.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    page = await client.get(f"/track/{code}")
    assert page.status_code == 200
    assert code in page.text and "已受理" in page.text
    assert '<p class="description">占道卖菜</p>' in page.text  # what was reported, as public
    assert "http://" not in page.text and "https://" not in page.text
    assert (await client.get("/api/v1/public/clues/NOPE-1/qr.png")).status_code == 404


@pytest.mark.parametrize(
    ("photo", "message"),
    [
        (("evil.png", b"#!/bin/sh\nrm -rf /\n", "image/png"), "photo 1 is not a JPEG, PNG or WebP"),
        (("empty.jpg", b"", "image/jpeg"), "photo 1 is empty"),
        (("cut.jpg", jpeg_with_position()[:200], "image/jpeg"), "photo 1 is damaged"),
    ],
)
async def test_fake_photos_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, database: Database, photo: tuple[str, bytes, str], message: str
) -> None:
    before = await count_clues(database)
    response = await send_tip(client, photos=[photo])
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert await count_clues(database) == before


async def test_a_50_mb_upload_is_refused_before_it_is_read(
    client: httpx.AsyncClient, database: Database
) -> None:
    before = await count_clues(database)
    huge = b"\xff\xd8" + b"\0" * (50 * 1024 * 1024)
    response = await send_tip(client, photos=[("big.jpg", huge, "image/jpeg")])
    assert response.status_code == 413
    assert await count_clues(database) == before


async def test_rating_once_after_closing_and_a_bad_one_reopens(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    tip = (await send_tip(client)).json()
    code, secret = tip["progress_code"], tip["secret"]
    rating_url = f"/api/v1/public/clues/{code}/rating"
    early = await client.post(rating_url, json={"secret": secret, "rating": 5})
    assert early.status_code == 409
    operator = {"Authorization": f"Bearer {live_server.token(Role.OPERATOR)}"}
    clue = next(
        c
        for c in (await client.get("/api/v1/clues", headers=operator)).json()
        if c["service_request_id"] == tip["service_request_id"]
    )
    squad_token = live_server.token(Role.SQUAD, squad=clue["squad_code"])
    squad = {"Authorization": f"Bearer {squad_token}"}
    for action, who in [
        ("accept", squad),
        ("arrive", squad),
        ("handle", squad),
        ("verify", operator),
        ("close", operator),
    ]:
        response = await client.post(
            f"/api/v1/clues/{clue['id']}/actions", json={"action": action}, headers=who
        )
        assert response.status_code == 200
    wrong = await client.post(rating_url, json={"secret": "x" * 22, "rating": 1})
    assert wrong.status_code == 403
    async with listen(live_server.ws_url, squad_token) as ws:
        rated = await client.post(
            rating_url, json={"secret": secret, "rating": 1, "comment": "摊贩又回来了"}
        )
        assert rated.status_code == 200, rated.text
        assert rated.json()["reopened"] is True
        events = await collect(ws, lambda es: any(e["type"] == "clue.dispatched" for e in es))
    types = [e["type"] for e in events]
    assert types[types.index("clue.rated") :][:2] == ["clue.rated", "clue.reopened"]
    again = await client.post(rating_url, json={"secret": secret, "rating": 5})
    assert again.status_code == 409
    public = (await client.get(f"/api/v1/public/clues/{code}")).json()
    assert public["status"] == "open"
    assert "居民评价不满意" in public["history"][-2]["description"]


async def count_clues(database: Database) -> int:
    from sqlalchemy import text

    async with database.sessions() as session:
        return int((await session.execute(text("SELECT count(*) FROM clues"))).scalar_one())


@pytest.fixture
def strict_server(database: Database, settings: Settings) -> Iterator[LiveServer]:
    server = start_server(
        settings.model_copy(
            update={
                "resident_reports_per_minute": 3,
                "event_channel": settings.event_channel + ":strict",  # its own counters
            }
        )
    )
    yield server
    server.stop()


async def test_a_flood_from_one_device_gets_429_with_retry_after(
    strict_server: LiveServer, database: Database
) -> None:
    before = await count_clues(database)
    async with httpx.AsyncClient(base_url=strict_server.url, timeout=10) as client:
        answers = [await send_tip(client, device_id="wx-flood") for _ in range(6)]
    statuses = [a.status_code for a in answers]
    assert statuses[:3] == [201, 201, 201]
    assert set(statuses[3:]) == {429}
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert "too many tips" in answers[-1].json()["detail"]
    assert await count_clues(database) == before + 3


async def test_only_an_operator_sees_the_reporters_phone_and_the_look_is_recorded(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    code = (await send_tip(client, phone="13900139000")).json()["service_request_id"]
    operator = {"Authorization": f"Bearer {live_server.token(Role.OPERATOR)}"}
    clue = next(
        c
        for c in (await client.get("/api/v1/clues", headers=operator)).json()
        if c["service_request_id"] == code
    )
    url = f"/api/v1/clues/{clue['id']}/reporter"
    shown = await client.get(url, params={"reason": "需要回访核实地点"}, headers=operator)
    assert shown.json()["phone"] == "13900139000"
    squad = {"Authorization": f"Bearer {live_server.token(Role.SQUAD, squad=clue['squad_code'])}"}
    assert (await client.get(url, params={"reason": "想知道"}, headers=squad)).status_code == 403
    record = await clue_events(client, clue["id"], operator, until="clue.contact_viewed")
    [viewed] = [e for e in record if e["type"] == "clue.contact_viewed"]
    assert viewed["data"]["reason"] == "需要回访核实地点"
    assert "13900139000" not in str(record)


async def test_too_many_photos_are_refused(client: httpx.AsyncClient) -> None:
    photo = ("p.jpg", jpeg_with_position(), "image/jpeg")
    response = await send_tip(client, photos=[photo] * 7)
    assert response.status_code == 400
