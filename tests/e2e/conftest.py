"""Headless Debian Chromium driven by Playwright for Python against a live server.

Every request any page makes is recorded, so that a test can assert that nothing left
this machine. Screenshots go to var/artifacts/e2e/ (gitignored).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "e2e"
WALL = {"width": 1920, "height": 1080}
DESK = {"width": 1600, "height": 1000}
PHONE = {"width": 390, "height": 844}

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs /usr/bin/chromium (scripts/test installs it)"
)


@dataclass
class Requests:
    """Every URL requested by the pages of a browser, websockets included."""

    urls: list[str] = field(default_factory=list)

    def outside(self, port: int) -> list[str]:
        """URLs that did not go to this test's server on loopback."""
        return [
            url
            for url in self.urls
            if urlsplit(url).scheme not in ("data", "blob")
            and urlsplit(url).netloc != f"127.0.0.1:{port}"
        ]

    def watch(self, context: BrowserContext) -> None:
        context.on("request", lambda request: self.urls.append(request.url))
        context.on("page", lambda page: self.watch_page(page))

    def watch_page(self, page: Page) -> None:
        page.on("websocket", lambda socket: self.urls.append(socket.url))


@dataclass
class Chromium:
    browser: Browser
    requests: Requests

    async def page(self, url: str, viewport: dict[str, int], **options: Any) -> Page:
        context = await self.browser.new_context(viewport=viewport, **options)
        self.requests.watch(context)
        page = await context.new_page()
        self.requests.watch_page(page)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.errors = errors  # type: ignore[attr-defined]
        await page.goto(url)
        return page


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Chromium]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield Chromium(browser, Requests())
        finally:
            await browser.close()


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


def scene_photo(text: str = "after") -> bytes:
    """A JPEG as a phone camera would send it."""
    image = Image.new("RGB", (640, 480), (90, 140, 90))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 300, 520, 420), fill=(160, 160, 160))
    draw.text((20, 20), text, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()
