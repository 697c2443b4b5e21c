"""`/docs`: Swagger UI from the package's own copy (fastapi-offline's), started by a
script file instead of the inline script FastAPI writes, so that the page holds under
`script-src 'self'` (issue 15, finding 8). `/redoc` is fastapi-offline's as it is (it has
no inline script)."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

STATIC = "/static-offline-docs"  # where fastapi-offline serves Swagger UI and ReDoc

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Swagger UI</title>
<link rel="stylesheet" href="{static}/swagger-ui.css">
<link rel="icon" href="{static}/favicon.png">
</head><body>
<div id="swagger-ui"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script>
</body></html>
"""

START = """"use strict";
window.ui = SwaggerUIBundle({{
  url: {openapi},
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
}});
"""


def install(app: FastAPI) -> None:
    """Add `/docs` and its start-up script to an app made with `docs_url=None`."""
    page = PAGE.format(title=app.title, static=STATIC)
    start = START.format(openapi=json.dumps(app.openapi_url))

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/docs/swagger-init.js", include_in_schema=False)
    async def swagger_start() -> Response:
        return Response(start, media_type="text/javascript; charset=utf-8")
