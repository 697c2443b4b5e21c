"""Open311's `media_url` points at the public copy of the photo a mini-program tip came
with (the standard's only field for it); a tip without a photo has none."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from gis.crs import wgs84_to_gcj02
from tests.conftest import LiveServer
from tests.support import LIANDU, spread


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), "orange").save(out, "JPEG")
    return out.getvalue()


async def tip(client: httpx.AsyncClient, photos: int) -> tuple[str, str]:
    lon, lat = wgs84_to_gcj02(*spread(LIANDU))
    data = {"service_code": "CG-001", "lon": str(lon), "lat": str(lat), "device_id": "wx-m"}
    files = [("photos", (f"p{i}.jpg", jpeg(), "image/jpeg")) for i in range(photos)]
    response = await client.post("/api/v1/public/tips", data=data, files=files or None)
    assert response.status_code == 201, response.text
    return str(response.json()["service_request_id"]), str(response.json()["progress_code"])


async def test_media_url_is_the_photos_public_copy(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    code, progress = await tip(client, photos=2)
    [request] = (await client.get(f"/open311/v2/requests/{code}.json")).json()
    public = (await client.get(f"/api/v1/public/clues/{progress}")).json()
    base = live_server.settings.public_base_url
    assert request["media_url"].startswith(base + "/open311/v2/media/")  # absolute
    photo = await client.get(request["media_url"].removeprefix(base))
    assert photo.status_code == 200 and photo.headers["content-type"].startswith("image/")
    first = await client.get(public["photos"][0])  # the reporter's view of the same photo
    assert photo.content == first.content
    elsewhere = request["media_url"].removeprefix(base).rsplit("/", 1)[0] + "/999999"
    assert (await client.get(elsewhere)).status_code == 404
    xml = (await client.get(f"/open311/v2/requests/{code}.xml")).text
    assert f"<media_url>{request['media_url']}</media_url>" in xml
    [listed] = (
        await client.get("/open311/v2/requests.json", params={"service_request_id": code})
    ).json()
    assert listed["media_url"] == request["media_url"]

    bare, _ = await tip(client, photos=0)
    [without] = (await client.get(f"/open311/v2/requests/{bare}.json")).json()
    assert without["media_url"] is None
