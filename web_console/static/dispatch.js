/* The dispatcher desk: clues waiting for a decision, their evidence and record, the
   suggested squads; assign, override, decide a dispute, verify and close. */
"use strict";

(() => {
  const { api, t, h, when, countdown, distance, stateName, eventName, liveEvents, showStatus, flash, debounce, imageUrl } = CC;
  const { map, layer } = MapKit;
  const TABS = {
    queue: ["received", "returned"],
    dispatched: ["dispatched"],
    closing: ["handled", "verified"],
  };
  let tab = "queue";
  let selected = null; // the clue shown
  let chosenSquad = null;
  const lists = {};
  let departments = [];

  function showTab(name) {
    tab = name;
    document.querySelectorAll("[data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
    renderList();
  }
  document.querySelectorAll("[data-tab]").forEach((button) =>
    button.addEventListener("click", () => showTab(button.dataset.tab)));

  /* Search: any clue in scope, every state (GET /api/v1/clues?q=); its own tab. */
  document.getElementById("search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = document.getElementById("search-text").value.trim();
    const searchTab = document.querySelector("[data-tab=search]");
    if (!q) {
      searchTab.hidden = true;
      if (tab === "search") showTab("queue");
      return;
    }
    try {
      lists.search = await api(`/api/v1/clues?${new URLSearchParams({ q, limit: "100" })}`);
    } catch (error) {
      report(error);
      return;
    }
    document.getElementById("count-search").textContent = lists.search.length;
    searchTab.hidden = false;
    showTab("search");
    if (lists.search.length === 1) select(lists.search[0].id);
  });

  async function loadLists() {
    for (const [name, states] of Object.entries(TABS)) {
      const query = new URLSearchParams(states.map((s) => ["state", s]));
      query.set("limit", "200");
      lists[name] = await api(`/api/v1/clues?${query}`);
      document.getElementById("count-" + name).textContent = lists[name].length;
    }
    renderList();
    document.body.dataset.state = "ready";
  }

  /* Why a clue waits, from its queue_reason_code, in the page's language. */
  function reasonCode(clue) {
    return clue.queue_reason_code || (clue.state === "returned" ? "returned" : null);
  }

  function why(clue) {
    const code = reasonCode(clue);
    if (code) return t("reason_" + code);
    return clue.queue_reason ? t("reason_other") : "";
  }

  function whySentence(clue) {
    const code = reasonCode(clue);
    if (!code) return clue.queue_reason || "";
    return t("why_" + code)
      .replace("{department}", clue.department)
      .replace("{jurisdiction}", clue.jurisdiction_name);
  }

  function renderList() {
    const items = (lists[tab] || []).map((clue) => {
      const due = clue.deadline ? countdown(clue.deadline) : null;
      return h("li", {
        class: selected && selected.id === clue.id ? "selected" : "",
        dataset: { clueId: clue.id, code: clue.service_request_id, state: clue.state },
        onclick: () => select(clue.id),
      },
      h("div", { class: "row" }, h("b", {}, clue.matter_name, clue.simulated ? h("span", { class: "demo-badge" }, t("simulated")) : null), h("span", { class: "badge", dataset: { state: clue.state } }, stateName(clue.state))),
      h("div", { class: "row muted small" }, h("span", {}, clue.service_request_id), h("span", {}, clue.jurisdiction_name), h("time", {}, when(clue.created_at))),
      tab === "queue" ? h("div", { class: "reason small" }, why(clue)) : null,
      due ? h("div", { class: "small" + (due.overdue ? " overdue-text" : "") }, due.text) : null);
    });
    const empty = tab === "search" ? t("search_empty") : t("queue_empty");
    document.getElementById("clue-list").replaceChildren(...(items.length ? items : [h("li", { class: "empty muted" }, empty)]));
  }

  async function select(id) {
    const clue = await api(`/api/v1/clues/${id}`);
    selected = clue;
    chosenSquad = null;
    renderList();
    document.getElementById("placeholder").hidden = true;
    document.getElementById("clue").hidden = false;
    document.getElementById("decide").hidden = false;
    document.getElementById("clue").dataset.clueId = clue.id;
    fill(clue);
    flash("");
    await Promise.all([loadRecord(clue), loadPhotos(clue), loadCandidates(clue)]);
    map.invalidateSize();
    showClueOnMap(clue);
    if (!document.getElementById("relocate-panel").hidden) placeRelocation(CC.toMap(clue.location.lon, clue.location.lat), false);
  }

  function fill(clue) {
    const set = (id, text) => (document.getElementById(id).textContent = text ?? "");
    set("d-matter", clue.matter_name);
    set("d-code", clue.service_request_id);
    const badge = document.getElementById("d-state");
    badge.textContent = stateName(clue.state);
    badge.dataset.state = clue.state;
    const due = countdown(clue.deadline);
    set("d-deadline", clue.deadline ? `${t("deadline")} ${when(clue.deadline)} · ${due.text}` : t("no_deadline"));
    set("d-why", whySentence(clue));
    set("d-legal", clue.legal_basis);
    set("d-department", clue.department);
    set("d-jurisdiction", `${clue.jurisdiction_name} (${clue.jurisdiction_code})`);
    set("d-squad", clue.squad_code || t("none"));
    set("d-channel", t("channel_" + clue.channel));
    set("d-created", when(clue.created_at) + (clue.report_count > 1 ? ` · ${clue.report_count} ${t("reports")}` : ""));
    set("d-description", clue.description || "—");
    const returned = clue.state === "returned";
    const closing = clue.state === "handled" || clue.state === "verified";
    document.getElementById("assign-panel").hidden = closing;
    showRelocate(clue);
    document.getElementById("dispute-panel").hidden = !returned;
    document.getElementById("closing-panel").hidden = !closing;
    document.getElementById("assign").textContent = clue.state === "dispatched" ? t("override") : t("assign");
    document.getElementById("returned-why").textContent = "";  // the squad's words: loadRecord
    document.getElementById("verify").disabled = clue.state !== "handled";
    document.getElementById("close").disabled = clue.state !== "verified";
    const select = document.getElementById("dispute-department");
    select.replaceChildren(...departments.filter((d) => d !== clue.department).map((d) => h("option", { value: d }, d)));
  }

  async function loadRecord(clue) {
    const events = await api(`/api/v1/clues/${clue.id}/events`);
    const reason = (e) => (e.data.reason_code ? t("reason_" + e.data.reason_code) : e.data.reason);
    document.getElementById("d-record").replaceChildren(...events.map((e) => h("li", { dataset: { type: e.type } },
      h("time", {}, when(e.at)), h("b", {}, eventName(e.type)),
      e.data.squad_code ? ` · ${e.data.squad_code}` : "", e.data.note ? ` · ${e.data.note}` : "", reason(e) ? ` · ${reason(e)}` : "")));
    const returned = events.filter((e) => e.type === "clue.returned").pop();
    if (clue.state === "returned" && returned) {
      const squad = (returned.data.by && returned.data.by.squad) || returned.data.from_squad || "";
      document.getElementById("returned-why").textContent = `${t("returned_by")}：${[squad, returned.data.note].filter(Boolean).join(" · ")}`;
    }
  }

  async function loadPhotos(clue) {
    const items = await api(`/api/v1/clues/${clue.id}/evidence`);
    const box = document.getElementById("d-photos");
    const images = await Promise.all(items.filter((e) => e.media_type.startsWith("image/")).map(async (e) => {
      const img = h("img", { alt: e.note || e.kind, title: `${e.kind} · ${when(e.created_at)} · SHA-256 ${e.sha256.slice(0, 12)}…`, src: await imageUrl(e.url) });
      img.addEventListener("click", () => img.classList.toggle("big"));
      return img;
    }));
    box.replaceChildren(...(images.length ? images : [h("span", { class: "muted" }, t("no_photos"))]));
  }

  let candidates = [];
  async function loadCandidates(clue) {
    candidates = clue.state === "handled" || clue.state === "verified" ? [] : await api(`/api/v1/clues/${clue.id}/candidates`);
    const rows = candidates.map((c) => h("tr", { class: c.eligible ? "" : "ineligible", dataset: { squad: c.squad_code } },
      h("td", {}, h("input", { type: "radio", name: "squad", value: c.squad_code, "aria-label": c.name, onchange: () => (chosenSquad = c.squad_code) })),
      h("td", {}, c.rank ?? "—"),
      h("td", {}, h("b", {}, c.squad_code), " ", c.name, c.eligible ? "" : h("span", { class: "badge" }, t("off_duty"))),
      h("td", {}, distance(c.distance_m)),
      h("td", {}, c.open_clues),
      h("td", {}, c.position === "live" ? t("live_position") : t("base_position")),
      h("td", {}, c.score.toFixed(1))));
    const body = document.getElementById("candidates");
    body.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 7, class: "muted" }, t("no_candidates")))]));
    const first = body.querySelector("tr:not(.ineligible) input") || body.querySelector("input");
    if (first && clue.state !== "dispatched") {
      first.checked = true;
      chosenSquad = first.value;
    }
  }

  let squadIndex = new Map();
  async function loadSquads() {
    const squads = await api("/api/v1/map/squads");
    squadIndex = new Map(squads.map((s) => [s.code, s]));
    departments = [...new Set(squads.map((s) => s.department))].sort();
  }

  function showClueOnMap(clue) {
    const clues = layer("clues"), squads = layer("squads");
    clues.clearLayers();
    squads.clearLayers();
    const marker = MapKit.clueMarker({ ...clue, lon: clue.location.lon, lat: clue.location.lat, overdue: false });
    clues.addLayer(marker);
    const spots = [CC.toMap(clue.location.lon, clue.location.lat)];
    for (const c of candidates) {
      const squad = squadIndex.get(c.squad_code);
      if (!squad) continue;
      const m = MapKit.squadMarker(squad);
      squads.addLayer(m);
      spots.push(m.getLatLng());
    }
    map.fitBounds(L.latLngBounds(spots), { padding: [30, 30], maxZoom: 15 });
  }

  /* Relocate: a clue waiting "confirm the location" (address only) gets a draggable
     marker; a click on the map moves it too. The position goes as WGS84 with a reason. */
  let relocation = null; // { marker, position: {lon, lat} | null }
  const RELOCATABLE = new Set(["received", "returned", "reopened"]);

  function showRelocate(clue) {
    if (relocation) layer("clues").removeLayer(relocation.marker);
    relocation = null;
    const panel = document.getElementById("relocate-panel");
    panel.hidden = !(RELOCATABLE.has(clue.state) && clue.queue_reason_code === "address_only");
    document.getElementById("relocate-address").textContent = clue.address || "—";
    document.getElementById("relocate-position").textContent = "—";
    document.getElementById("relocate").disabled = true;
  }

  /* The marker at `latlng`; `chosen`: the operator put it there (else it starts at the
     approximate place the address gave, and nothing can be confirmed yet). */
  function placeRelocation(latlng, chosen = true) {
    if (!relocation) {
      const icon = L.divIcon({ className: "relocate-pin", iconSize: [22, 22], iconAnchor: [11, 26], html: "<i></i>" });
      const marker = L.marker(latlng, { draggable: true, icon, zIndexOffset: 2000 });
      marker.on("dragend", () => placeRelocation(marker.getLatLng()));
      marker.on("add", () => (marker.getElement().id = "relocate-marker"));
      relocation = { marker, position: null };
      layer("clues").addLayer(marker);
    }
    relocation.marker.setLatLng(latlng);
    if (!chosen) return;
    relocation.position = CC.fromMap(latlng);
    const { lon, lat } = relocation.position;
    document.getElementById("relocate-position").textContent = `${lon.toFixed(6)}, ${lat.toFixed(6)}`;
    document.getElementById("relocate").disabled = false;
  }

  map.on("click", (event) => {
    if (!document.getElementById("relocate-panel").hidden) placeRelocation(event.latlng);
  });

  document.getElementById("relocate").addEventListener("click", () => {
    const note = need("relocate-note");
    if (!note || !selected || !relocation || !relocation.position) return;
    const { lon, lat } = relocation.position;
    act(t("done_relocated"), async () => {
      await api(`/api/v1/clues/${selected.id}/actions`, { method: "POST", body: { action: "relocate", lon, lat, crs: "wgs84", note } });
      document.getElementById("relocate-note").value = "";
    });
  });

  async function act(label, call) {
    try {
      await call();
      flash(label, "ok");
      await loadLists();
      if (selected) await select(selected.id);
    } catch (error) {
      flash(error.message, "error");
    }
  }

  const need = (id) => {
    const note = document.getElementById(id).value.trim();
    if (!note) {
      flash(t("reason_required"), "error");
      document.getElementById(id).focus();
    }
    return note;
  };

  document.getElementById("assign").addEventListener("click", () => {
    const note = need("assign-note");
    if (!note || !selected || !chosenSquad) return;
    const squad = chosenSquad;
    act(`${t("done_assigned")} ${squad}`, async () => {
      await api(`/api/v1/clues/${selected.id}/actions`, { method: "POST", body: { action: "dispatch", squad, note } });
      document.getElementById("assign-note").value = "";
    });
  });

  document.getElementById("decide-dispute").addEventListener("click", () => {
    const note = need("dispute-note");
    if (!note || !selected) return;
    const decision = document.querySelector("input[name=decision]:checked").value;
    const department = decision === "reassign" ? document.getElementById("dispute-department").value : null;
    act(t("done_decided"), async () => {
      await api(`/api/v1/clues/${selected.id}/dispute`, { method: "POST", body: { decision, department, note } });
      document.getElementById("dispute-note").value = "";
    });
  });

  for (const action of ["verify", "close"]) {
    document.getElementById(action).addEventListener("click", () => {
      if (!selected) return;
      const note = document.getElementById("closing-note").value.trim() || null;
      act(action === "close" ? t("done_closed") : t("state_verified"), () =>
        api(`/api/v1/clues/${selected.id}/actions`, { method: "POST", body: { action, note } }));
    });
  }

  const refresh = debounce(async () => {
    await loadLists().catch(report);
    if (selected) {
      const still = await api(`/api/v1/clues/${selected.id}`).catch(() => null);
      if (still && still.state !== selected.state) await select(selected.id);
    }
  }, 300);

  const refreshRecord = debounce(() => selected && loadRecord(selected).catch(report), 300);

  function report(error) {
    console.error(error);
    flash(error.message, "error");
  }

  async function start() {
    liveEvents((event) => {
      if (!event.type.startsWith("clue.")) return;
      refresh();
      if (selected && event.data.clue_id === selected.id) refreshRecord();
    }, showStatus);
    await loadSquads().catch(report);
    const areas = await api("/api/v1/jurisdictions?max_level=district&tolerance=50").catch(() => null);
    if (areas) MapKit.drawJurisdictions(areas, layer("jurisdictions"));
    await loadLists().catch(report);
    setInterval(renderList, 30000); // countdowns
  }
  start();
})();
