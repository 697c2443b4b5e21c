"""Render docs/diagrams/*.mmd (Mermaid) to the SVG files beside them, which the docs site
and the README show as plain images: the site loads no script from another host, and
Mermaid's own script is 3.5 MB, too large to keep in the repository for three pictures.

Run once after changing a diagram, with Mermaid's npm package unpacked somewhere (the npm
registry's tarball; nothing is fetched here) and Debian's Chromium:

    npm pack mermaid@11 && tar xzf mermaid-*.tgz
    python scripts/render_diagrams.py package/dist/mermaid.min.js

Labels are drawn as SVG text (no HTML in foreignObject), so the files display the same in
an <img>, on GitHub and in the site.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from playwright.async_api import async_playwright

DIAGRAMS = Path(__file__).resolve().parent.parent / "docs" / "diagrams"
CONFIG = (
    "{startOnLoad: false, theme: 'neutral', securityLevel: 'strict', htmlLabels: false,"
    " flowchart: {htmlLabels: false}, state: {htmlLabels: false}}"
)


async def render(mermaid_js: Path) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium")
        page = await browser.new_page()
        await page.set_content("<!doctype html><body></body>")
        await page.add_script_tag(path=str(mermaid_js))
        await page.evaluate(f"mermaid.initialize({CONFIG})")
        for source in sorted(DIAGRAMS.glob("*.mmd")):
            svg = await page.evaluate(
                "async ([id, text]) => (await mermaid.render(id, text)).svg",
                [source.stem, source.read_text("utf-8")],
            )
            source.with_suffix(".svg").write_text(svg + "\n", "utf-8")
            print(f"{source.name} -> {source.with_suffix('.svg').name} ({len(svg)} bytes)")
        await browser.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    asyncio.run(render(Path(sys.argv[1])))
