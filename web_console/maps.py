"""The consoles' maps, built with folium: base tiles (or none), the overlay groups the
page's script fills, the heatmap layer and the layer switcher. No I/O.

Folium lays out the Leaflet map and its controls on the server; the data arrives in the
browser from the JSON endpoints and over the websocket, so a map is built once per page
and language and never holds anything scoped to a token.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

import folium
import folium.plugins
from branca.element import Element, Figure

from web_console.assets import localize

# Before the jurisdictions arrive: the middle of China, where the map fits to them.
DEFAULT_CENTER = (30.0, 112.0)
DEFAULT_ZOOM = 5


@dataclass(frozen=True, slots=True)
class Tiles:
    """The base map: an XYZ URL template or "" for none (jurisdictions are the base)."""

    url: str = ""
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    attribution: str = ""
    subdomains: str = "abc"
    max_zoom: int = 18

    def img_source(self) -> str | None:
        """The CSP source the tiles need, or None for no tiles or tiles on this host. A
        {s} in the leftmost label becomes a wildcard; elsewhere the scheme is allowed."""
        if not self.url or self.url.startswith("/"):
            return None
        parts = urlsplit(self.url)
        host = parts.netloc
        if "{s}" in host:
            first, _, rest = host.partition(".")
            if "{s}" in first and "{" not in rest and rest:
                return f"{parts.scheme}://*.{rest}"
            return f"{parts.scheme}:"
        return f"{parts.scheme}://{host}"


@dataclass(frozen=True, slots=True)
class MapParts:
    """What a page template embeds: head links and styles, the map's div, its script,
    and the JavaScript names of the map and of each overlay group."""

    header: str
    html: str
    script: str
    map_var: str
    layers: dict[str, str]
    version: str = ""  # of the script: its URL changes when it does


@lru_cache(maxsize=32)
def build(
    tiles: Tiles,
    *,
    overlays: tuple[tuple[str, str], ...],
    heat_title: str | None = None,
    zoom_control: bool = True,
    layer_control: bool = True,
) -> MapParts:
    """A Leaflet map with `overlays` ((key, title) feature groups, in drawing order), an
    optional heatmap layer (hidden until switched on) and the tiles, if any."""
    fmap = folium.Map(
        location=DEFAULT_CENTER,
        zoom_start=DEFAULT_ZOOM,
        tiles=None,
        control_scale=True,
        zoom_control=zoom_control,
        max_zoom=tiles.max_zoom,
        prefer_canvas=False,
    )
    if tiles.url:
        folium.TileLayer(
            tiles=tiles.url,
            attr=tiles.attribution or "&nbsp;",
            name="base",
            max_zoom=tiles.max_zoom,
            subdomains=tiles.subdomains,
            control=False,
        ).add_to(fmap)
    groups: dict[str, Element] = {}
    for key, title in overlays:
        groups[key] = folium.FeatureGroup(name=title).add_to(fmap)
    if heat_title is not None:
        heat = folium.plugins.HeatMap(  # type: ignore[no-untyped-call]
            [], name=heat_title, show=False, radius=22, blur=18, min_opacity=0.35
        )
        heat.add_to(fmap)
        groups["heat"] = heat
    if layer_control:
        folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    localize(fmap)
    _steady_names(fmap)
    layers = {key: group.get_name() for key, group in groups.items()}
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.render()
    header = root.header.render()
    inline = [found.group(1) for found in _INLINE_SCRIPT.finditer(header)]
    script = "\n".join([*inline, root.script.render()])
    return MapParts(
        header=_INLINE_SCRIPT.sub("", header),
        html=root.html.render(),
        script=script,
        map_var=fmap.get_name(),
        layers=layers,
        version=hashlib.sha256(script.encode()).hexdigest()[:16],
    )


# A <script> without a src: the CSP allows none, so its text joins the map's script file.
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _steady_names(fmap: folium.Map) -> None:
    """Folium names every element after a random uuid; number them in tree order instead,
    so that every process builds the same map script for the same page (the page names
    its script by URL and any worker may serve it). Relies on branca's `_id`."""
    counter = itertools.count()

    def walk(element: Element) -> None:
        element._id = f"{next(counter):08x}"
        for child in list(element._children.values()):
            walk(child)

    walk(fmap)
