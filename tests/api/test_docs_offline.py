"""The API's own documentation pages work on a network that reaches no CDN."""

from __future__ import annotations

import re

import httpx


async def test_docs_and_redoc_load_everything_from_the_service(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        answer = await client.get(page)
        assert answer.status_code == 200, page
        assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", answer.text)
        assets += re.findall(r"""url:\s*['"]([^'"]+)['"]""", answer.text)
        assert assets, f"{page} links nothing: the check would be empty"
        outside = [url for url in assets if re.match(r"(https?:)?//", url)]
        assert outside == [], f"{page} asks another host for {outside}"
        for url in assets:
            if url.endswith((".js", ".css", ".png")):
                asset = await client.get(url)
                assert asset.status_code == 200 and asset.content, url
