/* The consoles' map pieces on top of the folium-built Leaflet map: jurisdictions as the
   base, clues coloured by state (one by one or as server-side clusters), squads. */
"use strict";

const MapKit = (() => {
  const { config, toMap, fromMap, h, t, stateName } = CC;
  const STATE_COLORS = {
    received: "#ff9f1c", dispatched: "#3a86ff", accepted: "#00b4d8", on_scene: "#8338ec",
    handled: "#2ec4b6", verified: "#06d6a0", closed: "#38b000", returned: "#ef233c",
    reopened: "#ff006e", cancelled: "#8d99ae", duplicate: "#8d99ae",
  };
  const STATE_ORDER = ["received", "returned", "reopened", "dispatched", "accepted", "on_scene", "handled", "verified", "closed"];
  const LEVEL_STYLE = {
    city: { weight: 3, fillOpacity: 0.05, dashArray: null },
    district: { weight: 2, fillOpacity: 0.08, dashArray: null },
    street: { weight: 1, fillOpacity: 0.03, dashArray: "4 4" },
    community: { weight: 1, fillOpacity: 0.02, dashArray: "2 4" },
    grid: { weight: 0.5, fillOpacity: 0.0, dashArray: "1 3" },
  };

  const map = window[config.map.var];
  const layer = (key) => window[config.map.layers[key]];
  const dark = document.documentElement.dataset.theme === "dark";
  if (!config.tiles.enabled) map.getContainer().classList.add("no-tiles");

  /* The jurisdictions are the base when there are no tiles: filled, outlined, named. */
  function drawJurisdictions(collection, group) {
    const stroke = dark ? "#5fa8ff" : "#2b6cb0";
    const fill = dark ? "#12345a" : "#dbe8f6";
    const geo = L.geoJSON(collection, {
      coordsToLatLng: (c) => L.latLng(...toMap(c[0], c[1])),
      style: (feature) => {
        const s = LEVEL_STYLE[feature.properties.level] || LEVEL_STYLE.street;
        return {
          color: stroke, weight: s.weight, dashArray: s.dashArray, fillColor: fill,
          fillOpacity: config.tiles.enabled ? s.fillOpacity : s.fillOpacity * 4 + 0.1,
          interactive: false,
        };
      },
    });
    group.addLayer(geo);
    const labels = collection.features.filter((f) => f.properties.level !== "grid");
    const deepest = Math.max(...labels.map((f) => levelRank(f.properties.level)), 0);
    for (const feature of labels) {
      const [lon, lat] = feature.properties.label;
      const minor = levelRank(feature.properties.level) === deepest && deepest > 2;
      group.addLayer(L.marker(toMap(lon, lat), {
        interactive: false, keyboard: false,
        icon: L.divIcon({ className: "area-label" + (minor ? " minor" : ""), html: escapeHtml(feature.properties.name), iconSize: null }),
      }));
    }
    return geo;
  }

  const levelRank = (level) => ["city", "district", "street", "community", "grid"].indexOf(level) + 1;

  function fitTo(collection) {
    if (!collection.bbox) return;
    const [w, s, e, n] = collection.bbox;
    map.fitBounds([toMap(w, s), toMap(e, n)], { padding: [20, 20] });
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  /* One clue: a dot in its state's colour, with the code and state in the DOM. */
  function clueMarker(clue, options = {}) {
    const marker = L.marker(toMap(clue.lon, clue.lat), {
      icon: clueIcon(clue.state, clue.overdue, options.fresh), keyboard: false, riseOnHover: true,
      zIndexOffset: options.fresh ? 1000 : 0,
    });
    marker.clue = Object.assign({}, clue);
    marker.on("add", () => tag(marker));
    marker.bindTooltip(() => clueTooltip(marker.clue), { direction: "top", offset: [0, -8] });
    return marker;
  }

  function clueIcon(state, overdue, fresh) {
    const classes = ["clue-dot", `state-${state}`, overdue ? "overdue" : "", fresh ? "fresh" : ""].join(" ");
    return L.divIcon({ className: classes, iconSize: [16, 16], html: `<i style="background:${STATE_COLORS[state] || "#999"}"></i>` });
  }

  function tag(marker) {
    const element = marker.getElement();
    if (!element) return;
    element.dataset.code = marker.clue.service_request_id;
    element.dataset.clueId = marker.clue.id;
    element.dataset.state = marker.clue.state;
  }

  function setClueState(marker, changes) {
    Object.assign(marker.clue, changes);
    marker.setIcon(clueIcon(marker.clue.state, marker.clue.overdue, marker.fresh));
    tag(marker);
  }

  function clueTooltip(clue) {
    return h("div", { class: "clue-tip" },
      h("b", {}, clue.matter_name || clue.matter_code || ""),
      h("div", {}, `${clue.service_request_id} · ${stateName(clue.state)}`),
      clue.squad_code ? h("div", {}, `${t("squad")}: ${clue.squad_code}`) : null,
      clue.overdue ? h("div", { class: "overdue-text" }, t("overdue")) : null);
  }

  /* A cluster: its count inside a ring split by state (a conic gradient). */
  function clusterMarker(cluster) {
    let angle = 0;
    const stops = [];
    for (const state of STATE_ORDER) {
      const n = cluster.by_state[state] || 0;
      if (!n) continue;
      const next = angle + (n / cluster.count) * 360;
      stops.push(`${STATE_COLORS[state]} ${angle.toFixed(1)}deg ${next.toFixed(1)}deg`);
      angle = next;
    }
    const size = Math.round(34 + Math.min(1, Math.log10(cluster.count) / 4) * 34);
    const html = `<div class="ring" style="background:conic-gradient(${stops.join(",")})"><span>${compact(cluster.count)}</span></div>` +
      (cluster.overdue ? `<em>${compact(cluster.overdue)}</em>` : "");
    const marker = L.marker(toMap(cluster.lon, cluster.lat), {
      icon: L.divIcon({ className: "cluster", iconSize: [size, size], html }), keyboard: false,
    });
    marker.on("click", () => {
      const [w, s, e, n] = cluster.bounds;
      if (w === e && s === n) map.setView(toMap(w, s), Math.min(map.getZoom() + 3, map.getMaxZoom()));
      else map.fitBounds([toMap(w, s), toMap(e, n)], { padding: [40, 40], maxZoom: map.getMaxZoom() });
    });
    marker.bindTooltip(() => h("div", { class: "clue-tip" },
      ...STATE_ORDER.filter((s) => cluster.by_state[s]).map((s) => h("div", {}, `${stateName(s)} ${cluster.by_state[s]}`)),
      cluster.overdue ? h("div", { class: "overdue-text" }, `${t("overdue")} ${cluster.overdue}`) : null));
    return marker;
  }

  const compact = (n) => (n >= 10000 ? `${(n / 10000).toFixed(1)}${config.lang === "en" ? "0k" : "万"}` : String(n));

  /* A squad at its live position (solid) or its base (hollow), with its workload. */
  function squadMarker(squad) {
    const at = squad.position || squad.base;
    const marker = L.marker(toMap(at.lon, at.lat), { icon: squadIcon(squad), keyboard: false, zIndexOffset: 500 });
    marker.squad = squad;
    marker.bindTooltip(() => h("div", { class: "clue-tip" },
      h("b", {}, squad.name), h("div", {}, squad.department),
      h("div", {}, `${t("workload")} ${squad.open_clues} · ${squad.position ? t("live_position") : t("base_position")}`),
      squad.on_duty ? null : h("div", {}, t("off_duty"))));
    marker.on("add", () => {
      const element = marker.getElement();
      if (element) element.dataset.squad = squad.code;
    });
    return marker;
  }

  function squadIcon(squad) {
    const classes = ["squad-pin", squad.position ? "live" : "base", squad.on_duty ? "" : "off"].join(" ");
    return L.divIcon({ className: classes, iconSize: null, html: `<span>${escapeHtml(squad.code)}</span><b>${squad.open_clues}</b>` });
  }

  function moveSquad(marker, lon, lat, live) {
    marker.squad.position = live ? { lon, lat } : marker.squad.position;
    marker.setLatLng(toMap(lon, lat));
    marker.setIcon(squadIcon(marker.squad));
  }

  /* The viewport in WGS84, as `west,south,east,north` for /api/v1/map/clues. */
  function viewport() {
    const bounds = map.getBounds();
    const sw = fromMap(bounds.getSouthWest()), ne = fromMap(bounds.getNorthEast());
    return [sw.lon, sw.lat, ne.lon, ne.lat].map((v) => v.toFixed(6)).join(",");
  }

  function legend(element, byState) {
    element.replaceChildren(...STATE_ORDER.map((state) =>
      h("li", { dataset: { state } }, h("i", { style: `background:${STATE_COLORS[state]}` }), stateName(state), h("b", {}, String(byState[state] || 0)))));
  }

  return {
    map, layer, STATE_COLORS, STATE_ORDER, drawJurisdictions, fitTo, clueMarker, setClueState,
    clusterMarker, squadMarker, moveSquad, viewport, legend, escapeHtml,
  };
})();
