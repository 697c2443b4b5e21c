"""A browser publishes its (fake) camera through the WHIP page; an operator watches it."""

from __future__ import annotations

import io
import secrets

import pytest
from PIL import Image
from playwright.async_api import async_playwright

from command_center.auth.model import Role
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import LiveServer
from tests.video.peers import Peers, auth, unique_point

CAMERA_ARGS = [
    *CHROMIUM_ARGS,
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs /usr/bin/chromium (scripts/test installs it)"
)


async def test_headless_chromium_publishes_its_fake_camera_and_watches_it(
    live_server: LiveServer, peers: Peers
) -> None:
    camera = f"phone-{secrets.token_hex(4)}"
    device = live_server.token(Role.DEVICE, device=camera, squad="LD-01")
    operator = live_server.token(Role.OPERATOR)
    page_url = f"{live_server.url}/video/publish#stream={camera}&token={device}&autostart=1"

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CAMERA_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(page_url)
            await page.wait_for_selector("body[data-state=connected]", timeout=15_000)

            viewer = await peers.watch(camera, operator)
            frames = await viewer.wait_frames(10, timeout=15)
            assert frames[-1].width > 0 and frames[-1].height > 0

            lon, lat = unique_point()
            shot = await peers.http.post(
                f"/api/v1/streams/{camera}/clues",
                json={"matter_code": "CG-001", "lon": lon, "lat": lat, "description": "手机"},
                headers=auth(operator),
            )
            assert shot.status_code == 201, shot.text
            sha = shot.json()["evidence"]["sha256"]
            jpeg = (
                live_server.settings.media_dir / "originals" / sha[:2] / f"{sha}.jpg"
            ).read_bytes()
            assert Image.open(io.BytesIO(jpeg)).format == "JPEG"

            watcher = await browser.new_page()
            await watcher.goto(
                f"{live_server.url}/video/watch#stream={camera}&token={operator}&autostart=1"
            )
            await watcher.wait_for_selector("body[data-state=connected]", timeout=15_000)
            await watcher.wait_for_function(
                "document.getElementById('view').videoWidth > 0", timeout=15_000
            )

            await page.click("#stop")
            await page.wait_for_selector("body[data-state=stopped]", timeout=5_000)
        finally:
            await browser.close()
    gone = await peers.http.get(f"/api/v1/streams/{camera}", headers=auth(operator))
    assert gone.status_code == 404
