/* The wall screen: the live map, today's figures, the latest events and the warnings. */
"use strict";

(() => {
  const { api, t, h, when, clock, liveEvents, telemetry, showStatus, stateName, eventName, throttle, debounce, config } = CC;
  const { map, layer } = MapKit;
  const clues = layer("clues"), areas = layer("jurisdictions"), heat = layer("heat");
  /* Squads that would overlap (several at a district seat) are drawn as one group badge
     until the map is zoomed in far enough to tell them apart (Leaflet.markercluster). */
  if (map.options.maxZoom === undefined) map.setMaxZoom(config.tiles.max_zoom || 18); // the plugin needs it
  const squadsLayer = L.markerClusterGroup({
    maxClusterRadius: 48, showCoverageOnHover: false, spiderfyOnMaxZoom: true, disableClusteringAtZoom: 16,
    iconCreateFunction: (group) => {
      const squads = group.getAllChildMarkers().map((m) => m.squad);
      const open = squads.reduce((sum, s) => sum + s.open_clues, 0);
      return L.divIcon({ className: "squad-group", iconSize: null,
        html: `<span>${squads.length} ${MapKit.escapeHtml(t("squads_short"))}</span><b>${open}</b>` });
    },
  });
  layer("squads").addLayer(squadsLayer);
  const points = new Map(); // clue id → marker, in points mode
  const fresh = new Map(); // clue id → marker of a clue that arrived while the wall is open
  const squadMarkers = new Map(); // squad code → marker
  const deviceSquad = new Map(); // device id → squad code
  let mode = "points";
  let inflight = null;
  window.__wallSeen = {}; // service_request_id → Date.now() when first drawn (bench, tests)

  const FRESH_MS = 10 * 60 * 1000;
  const WARNING_EVENTS = new Set(["clue.queued", "clue.returned", "clue.accept_timeout", "clue.reminder", "clue.supervision_order", "clue.escalated", "clue.reopened"]);

  setInterval(() => (document.getElementById("clock").textContent = clock()), 1000);
  document.getElementById("clock").textContent = clock();

  const heatButton = document.getElementById("heat-toggle");
  heatButton.addEventListener("click", () => (map.hasLayer(heat) ? map.removeLayer(heat) : map.addLayer(heat)));
  map.on("overlayadd overlayremove layeradd layerremove", () => heatButton.setAttribute("aria-pressed", String(map.hasLayer(heat))));

  async function loadJurisdictions() {
    const collection = await api("/api/v1/jurisdictions?max_level=street&tolerance=30");
    MapKit.drawJurisdictions(collection, areas);
    const top = collection.features.reduce((a, f) => (!a || levelOf(f) < levelOf(a) ? f : a), null);
    if (top && CC.config.principal.jurisdiction) document.getElementById("scope").textContent = `${top.properties.name} · ${t("role_" + CC.config.principal.role)}`;
    MapKit.fitTo(collection);
  }
  const levelOf = (f) => ["city", "district", "street", "community", "grid"].indexOf(f.properties.level);

  /* The clues of the viewport: one by one, or clusters counted by state on the server. */
  async function loadClues() {
    if (inflight) inflight.abort();
    inflight = new AbortController();
    const query = new URLSearchParams({ bbox: MapKit.viewport(), zoom: String(Math.round(map.getZoom())) });
    let body;
    try {
      body = await api(`/api/v1/map/clues?${query}`, { signal: inflight.signal });
    } catch (error) {
      if (error.name === "AbortError") return;
      throw error;
    }
    mode = body.mode;
    document.getElementById("map-mode").textContent = mode === "clusters" ? t("clusters_note") : "";
    if (mode === "points") drawPoints(body.points);
    else drawClusters(body.clusters);
    heat.setLatLngs(mode === "points"
      ? body.points.map((p) => [...CC.toMap(p.lon, p.lat), 1])
      : body.clusters.map((c) => [...CC.toMap(c.lon, c.lat), Math.min(1, 0.2 + Math.log10(c.count + 1) / 3)]));
    document.getElementById("map-total").textContent = body.total;
    MapKit.legend(document.getElementById("legend"), body.by_state);
    window.__wallLoads = (window.__wallLoads || 0) + 1;
    if (document.body.dataset.state !== "ready") {
      document.body.dataset.state = "ready";
      window.__wallReady = performance.now();
    }
  }

  function drawPoints(list) {
    const seen = new Set();
    for (const clue of list) {
      seen.add(clue.id);
      if (fresh.has(clue.id)) {
        MapKit.setClueState(fresh.get(clue.id), clue);
        continue;
      }
      const known = points.get(clue.id);
      if (known) MapKit.setClueState(known, clue);
      else {
        const marker = MapKit.clueMarker(clue);
        points.set(clue.id, marker);
        clues.addLayer(marker);
        window.__wallSeen[clue.service_request_id] ??= Date.now();
      }
    }
    for (const [id, marker] of points) if (!seen.has(id)) (clues.removeLayer(marker), points.delete(id));
    for (const layerItem of clues.getLayers()) if (layerItem.cluster) clues.removeLayer(layerItem);
  }

  function drawClusters(list) {
    for (const marker of points.values()) clues.removeLayer(marker);
    points.clear();
    for (const layerItem of clues.getLayers()) if (layerItem.cluster) clues.removeLayer(layerItem);
    for (const cluster of list) {
      const marker = MapKit.clusterMarker(cluster);
      marker.cluster = true;
      clues.addLayer(marker);
    }
  }

  const refreshClues = throttle(() => loadClues().catch(report), 1500);
  map.on("moveend", debounce(() => loadClues().catch(report), 120));

  /* A clue that arrives is drawn from its event at once, before any refresh. */
  function onClueEvent(event) {
    const data = event.data;
    const id = data.clue_id;
    if (event.type === "clue.received" && data.location && !points.has(id) && !fresh.has(id)) {
      const marker = MapKit.clueMarker({
        id, service_request_id: data.service_request_id, state: data.to, lon: data.location.lon,
        lat: data.location.lat, matter_code: data.matter_code, squad_code: null, overdue: false,
      }, { fresh: true });
      marker.fresh = true;
      fresh.set(id, marker);
      clues.addLayer(marker);
      window.__wallSeen[data.service_request_id] ??= Date.now();
      setTimeout(() => expireFresh(id), FRESH_MS);
    }
    const marker = fresh.get(id) || points.get(id);
    if (marker && data.to) MapKit.setClueState(marker, { state: data.to, squad_code: data.squad_code ?? marker.clue.squad_code });
    refreshClues();
  }

  function expireFresh(id) {
    const marker = fresh.get(id);
    if (!marker) return;
    fresh.delete(id);
    clues.removeLayer(marker);
    refreshClues();
  }

  function feed(event) {
    const list = document.getElementById("feed");
    const data = event.data;
    const who = data.squad_code || data.department || "";
    list.prepend(h("li", { dataset: { type: event.type, code: data.service_request_id || "" } },
      h("time", {}, when(event.at)), h("b", {}, eventName(event.type)),
      h("span", {}, [data.service_request_id, who].filter(Boolean).join(" · "))));
    while (list.children.length > 30) list.lastChild.remove();
  }

  async function loadWarnings() {
    const warnings = await api("/api/v1/warnings");
    document.getElementById("warning-count").textContent = warnings.length;
    const items = warnings.slice(0, 60).map((w) => h("li", { dataset: { kind: w.kind } },
      h("b", {}, t("warn_" + w.kind)),
      h("span", {}, [w.service_request_id, w.squad_code, w.deadline ? `${t("deadline")} ${when(w.deadline)}` : w.last_position_at ? when(w.last_position_at) : ""].filter(Boolean).join(" · "))));
    document.getElementById("warning-list").replaceChildren(...(items.length ? items : [h("li", { class: "muted" }, t("no_warnings"))]));
    ticker(warnings);
  }

  function ticker(warnings) {
    const track = document.getElementById("ticker");
    const text = warnings.length
      ? warnings.slice(0, 40).map((w) => `【${t("warn_" + w.kind)}】${w.service_request_id || w.squad_code || ""}${w.squad_code && w.service_request_id ? " · " + w.squad_code : ""}${w.deadline ? " · " + t("deadline") + " " + when(w.deadline) : ""}`)
      : [t("no_warnings")];
    const row = () => h("span", { class: "ticker-row" }, ...text.map((x) => h("span", { class: "ticker-item" }, x)));
    track.replaceChildren(row(), row());
    track.style.animationDuration = `${Math.max(20, text.join("").length / 4)}s`;
  }

  function tickerNow(event) {
    const track = document.getElementById("ticker");
    for (const row of track.children) row.prepend(h("span", { class: "ticker-item live" }, `【${eventName(event.type)}】${event.data.service_request_id || ""}`));
  }

  async function loadKpis() {
    const note = document.getElementById("kpi-note");
    try {
      const stats = await api("/api/v1/stats/overview?period=day");
      for (const key of ["received", "dispatched", "closed", "overdue"]) document.getElementById("kpi-" + key).textContent = stats[key];
      for (const key of ["closure_rate", "on_time_rate"]) document.getElementById("kpi-" + key).textContent = stats[key] === null ? "—" : `${(stats[key] * 100).toFixed(1)}%`;
      note.hidden = true;
    } catch (error) {
      note.hidden = false;
    }
  }

  async function loadSquads() {
    const squads = await api("/api/v1/map/squads");
    const keep = new Set();
    for (const squad of squads) {
      keep.add(squad.code);
      for (const device of squad.devices) deviceSquad.set(device, squad.code);
      const old = squadMarkers.get(squad.code);
      if (old) squadsLayer.removeLayer(old);
      const marker = MapKit.squadMarker(squad);
      squadMarkers.set(squad.code, marker);
      squadsLayer.addLayer(marker);
    }
    for (const [code, marker] of squadMarkers) if (!keep.has(code)) (squadsLayer.removeLayer(marker), squadMarkers.delete(code));
    const onDuty = squads.filter((s) => s.on_duty);
    document.getElementById("squads-on").textContent = onDuty.length;
    document.getElementById("squad-list").replaceChildren(...onDuty
      .sort((a, b) => b.open_clues - a.open_clues).slice(0, 12)
      .map((s) => h("li", { dataset: { squad: s.code } }, h("span", {}, s.name), h("b", {}, `${t("workload")} ${s.open_clues}`))));
  }

  function onTelemetry(message) {
    const positions = message.type === "snapshot" ? message.positions : message.type === "position" ? [message] : [];
    for (const position of positions) {
      const code = position.device.squad_code || deviceSquad.get(position.device.id);
      const marker = code && squadMarkers.get(code);
      if (marker) MapKit.moveSquad(marker, position.location.lon, position.location.lat, true);
    }
  }

  const refreshSide = throttle(() => {
    loadKpis();
    loadWarnings().catch(report);
    loadSquads().catch(report);
  }, 3000);

  function onEvent(event) {
    if (!event.type.startsWith("clue.")) return;
    onClueEvent(event);
    feed(event);
    if (WARNING_EVENTS.has(event.type)) tickerNow(event);
    refreshSide();
  }

  function report(error) {
    console.error(error);
    if (error.status === 401 || error.status === 403) showStatus("offline");
  }

  /* The latest-events panel on open: the newest events of the log in scope; the live
     stream then resumes after the last of them, so nothing is missed or shown twice. */
  async function loadLatestEvents() {
    const events = await api("/api/v1/events/latest?limit=60");
    for (const event of events) if (event.type.startsWith("clue.")) feed(event);
    return events.length ? events[events.length - 1].id : null;
  }

  async function start() {
    const after = await loadLatestEvents().catch((error) => (report(error), null));
    liveEvents(onEvent, showStatus, after);
    await loadJurisdictions().catch(report);
    await loadClues().catch(report);
    loadSquads().catch(report);
    loadWarnings().catch(report);
    loadKpis();
    telemetry(onTelemetry);
    setInterval(() => loadWarnings().catch(report), 30000);
    setInterval(loadKpis, 30000);
    setInterval(() => loadSquads().catch(report), 60000);
    setInterval(() => loadClues().catch(report), 60000); // deadlines pass without events
  }
  start();
})();
