"""OGC API – Features (Part 1: Core, GeoJSON) and vector tiles (OGC API – Tiles, MVT in
WebMercatorQuad) over jurisdictions, open clues and squads, scoped by the token."""
