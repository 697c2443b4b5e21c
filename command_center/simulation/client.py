"""The simulation's one door to the service: HTTP with httpx, `/ws` with websockets,
every request marked with the simulation header (refused unless the service is a demo)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from PIL import Image, ImageDraw
from websockets.asyncio.client import ClientConnection, connect

from command_center.demo.model import SIMULATION_HEADER

HEADERS = {SIMULATION_HEADER: "1", "User-Agent": "command-center-simulate"}


class Refused(Exception):
    """The service answered an error the simulation does not expect; its words."""


def scene_photo(text: str) -> bytes:
    """A JPEG as a phone camera would send one, with `text` on it (ASCII)."""
    image = Image.new("RGB", (480, 360), (84, 120, 92))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 220, 420, 330), fill=(150, 150, 150))
    draw.text((16, 16), f"DEMO {text}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


class Service:
    """A client of one service at `base_url`."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base_url, headers=HEADERS, timeout=timeout)

    async def close(self) -> None:
        await self.http.aclose()

    async def json(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        """The JSON answer; Refused names the status and the service's words otherwise."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.request(method, path, headers=headers, **kw)
        if response.status_code >= 400:
            raise Refused(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    async def demo(self) -> dict[str, Any]:
        answer: dict[str, Any] = await self.json("GET", "/api/v1/demo")
        return answer

    async def act(self, token: str, clue_id: int, action: str, **body: Any) -> Any:
        return await self.json(
            "POST", f"/api/v1/clues/{clue_id}/actions", token, json={"action": action, **body}
        )

    async def photo(self, token: str, clue_id: int, note: str) -> Any:
        files = {"photo": ("scene.jpg", scene_photo(f"clue {clue_id}"), "image/jpeg")}
        return await self.json(
            "POST", f"/api/v1/clues/{clue_id}/evidence", token, files=files, data={"note": note}
        )

    async def osmand(
        self, device: str, lon: float, lat: float, speed_kmh: float, *, tracker_id: str
    ) -> None:
        """One OsmAnd report of `device`, as its tracker sends it (GET, query parameters,
        knots) under `tracker_id` — the secret id, never printed."""
        query = {
            "id": tracker_id,
            "lon": f"{lon:.6f}",
            "lat": f"{lat:.6f}",
            "speed": f"{speed_kmh / 1.852:.1f}",
        }
        response = await self.http.get("/api/v1/positions/osmand", params=query)
        if response.status_code >= 400:
            raise Refused(
                f"OsmAnd report of {device}: {response.status_code} {response.text[:200]}"
            )

    @asynccontextmanager
    async def events(self, token: str, after: int | None = None) -> AsyncIterator[ClientConnection]:
        """`/ws` with `token` (resuming after event `after`), as a console opens it."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        query = {"token": token} | ({"after": str(after)} if after is not None else {})
        url = f"{scheme}://{parts.netloc}/ws?{urlencode(query)}"
        async with connect(url, additional_headers=HEADERS, open_timeout=10) as socket:
            yield socket


def event_of(message: str | bytes) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(message)
    return event
