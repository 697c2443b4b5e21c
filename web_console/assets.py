"""Where the pages' third-party scripts and styles come from: installed packages, served
by this service under /console/vendor/. Nothing is ever loaded from another host.

- Leaflet: the XStatic-Leaflet package (Leaflet's own dist files and licence terms).
- Leaflet.heat: the minified copy that folium ships in its package.

`localize` rewrites the CDN links folium's elements carry to these local URLs and
refuses any asset it has no local copy of, so that a folium upgrade that brings a new
CDN link fails loudly instead of sending a browser to the internet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import folium
import xstatic.pkg.leaflet

VENDOR_URL = "/console/vendor"
LEAFLET_DIR = Path(xstatic.pkg.leaflet.BASE_DIR)
FOLIUM_TEMPLATES_DIR = Path(folium.__file__).parent / "templates"

# Folium's asset names → our local URL (None: the asset is not used by our maps and is
# dropped: jQuery, Bootstrap, Font Awesome and awesome-markers serve folium's popups and
# icons, which the consoles do not use).
LOCAL_ASSETS: dict[str, str | None] = {
    "leaflet": f"{VENDOR_URL}/leaflet/leaflet.js",
    "leaflet_css": f"{VENDOR_URL}/leaflet/leaflet.css",
    "leaflet-heat.js": f"{VENDOR_URL}/folium/leaflet_heat.min.js",
    "jquery": None,
    "bootstrap": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers": None,
    "awesome_markers_css": None,
    "awesome_markers_font_css": None,
    "awesome_rotate_css": None,
}


class AssetError(RuntimeError):
    """A map element wants a script or style that the service does not serve itself."""


def localize(element: Any) -> None:
    """Point every script and style of `element` and its children at local copies."""
    for attribute in ("default_js", "default_css"):
        assets = getattr(element, attribute, None)
        if assets:
            setattr(element, attribute, _local(assets))
    for child in getattr(element, "_children", {}).values():
        localize(child)


def _local(assets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    local = []
    for name, url in assets:
        if name not in LOCAL_ASSETS:
            raise AssetError(f"no local copy of the map asset {name!r} ({url})")
        target = LOCAL_ASSETS[name]
        if target is not None:
            local.append((name, target))
    return local
