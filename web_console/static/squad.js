/* The squad phone: assignments announced as they arrive; accept, arrive, handle with a
   photo from the camera, or return with a reason; a link to navigate there. */
"use strict";

(() => {
  const { api, t, h, when, countdown, stateName, liveEvents, showStatus, flash, debounce, imageUrl, GCJ, config } = CC;
  const { map, layer } = MapKit;
  const mySquad = config.principal.squad;
  const WORKING = ["dispatched", "accepted", "on_scene"];
  let tasks = [];
  let current = null;
  let announced = null;

  document.getElementById("who").textContent = `${t("squad_title")} · ${mySquad}`;

  async function loadTasks() {
    const query = new URLSearchParams(WORKING.map((s) => ["state", s]));
    tasks = await api(`/api/v1/clues?${query}`);
    const list = document.getElementById("tasks");
    list.replaceChildren(...tasks.map((clue) => {
      const due = countdown(clue.deadline);
      return h("li", { dataset: { clueId: clue.id, code: clue.service_request_id, state: clue.state }, onclick: () => open(clue.id) },
        h("div", { class: "row" }, h("b", {}, clue.matter_name), h("span", { class: "badge", dataset: { state: clue.state } }, stateName(clue.state))),
        h("div", { class: "muted small" }, `${clue.service_request_id} · ${clue.jurisdiction_name}`),
        h("div", { class: "small countdown" + (due.overdue ? " overdue-text" : ""), dataset: { deadline: clue.deadline || "" } }, due.text));
    }));
    document.getElementById("task-count").textContent = tasks.length;
    document.getElementById("no-tasks").hidden = tasks.length > 0;
    document.body.dataset.state = "ready";
  }

  async function open(id) {
    const clue = await api(`/api/v1/clues/${id}`);
    current = clue;
    document.getElementById("list-view").hidden = true;
    document.getElementById("task-view").hidden = false;
    document.getElementById("task-view").dataset.clueId = clue.id;
    document.getElementById("task-view").dataset.state = clue.state;
    const set = (key, text) => (document.getElementById(key).textContent = text ?? "");
    set("t-matter", clue.matter_name);
    set("t-code", clue.service_request_id);
    const badge = document.getElementById("t-state");
    badge.textContent = stateName(clue.state);
    badge.dataset.state = clue.state;
    set("t-where", `${clue.jurisdiction_name}${clue.description ? "" : ""} · ${clue.location.lat.toFixed(5)}, ${clue.location.lon.toFixed(5)}`);
    set("t-description", clue.description || "—");
    set("t-legal", clue.legal_basis);
    const { lon, lat } = clue.location;
    document.getElementById("t-nav").href = `geo:${lat},${lon}?q=${lat},${lon}`;
    const [glon, glat] = GCJ.toGcj(lon, lat);
    document.getElementById("t-amap").href = `https://uri.amap.com/marker?position=${glon.toFixed(6)},${glat.toFixed(6)}&name=${encodeURIComponent(clue.matter_name)}&coordinate=gaode&callnative=1`;
    const can = (state) => clue.state === state;
    document.getElementById("do-accept").hidden = !can("dispatched");
    document.getElementById("do-arrive").hidden = !can("accepted");
    document.getElementById("handle-box").hidden = !can("on_scene");
    document.getElementById("return-box").hidden = !WORKING.includes(clue.state);
    tick();
    flash("");
    showOnMap(clue);
    loadPhotos(clue).catch(report);
  }

  function showOnMap(clue) {
    const group = layer("clues");
    group.clearLayers();
    group.addLayer(MapKit.clueMarker({ ...clue, lon: clue.location.lon, lat: clue.location.lat, overdue: false }));
    map.invalidateSize();
    map.setView(CC.toMap(clue.location.lon, clue.location.lat), 15);
  }

  async function loadPhotos(clue) {
    const items = await api(`/api/v1/clues/${clue.id}/evidence`);
    const images = await Promise.all(items.filter((e) => e.media_type.startsWith("image/")).map(async (e) => {
      const img = h("img", { alt: e.note || e.kind, src: await imageUrl(e.url) });
      img.addEventListener("click", () => img.classList.toggle("big"));
      return img;
    }));
    document.getElementById("t-photos").replaceChildren(...images);
  }

  function tick() {
    if (current) {
      const due = countdown(current.deadline);
      const element = document.getElementById("t-countdown");
      element.textContent = current.deadline ? `${t("deadline")} ${when(current.deadline)} · ${due.text}` : due.text;
      element.classList.toggle("overdue-text", due.overdue);
    }
    for (const element of document.querySelectorAll("#tasks .countdown")) {
      const due = countdown(element.dataset.deadline || null);
      element.textContent = due.text;
      element.classList.toggle("overdue-text", due.overdue);
    }
    if (announced) document.getElementById("announce-deadline").textContent = countdown(announced.deadline).text;
  }
  setInterval(tick, 1000);

  document.getElementById("back").addEventListener("click", () => {
    current = null;
    document.getElementById("task-view").hidden = true;
    document.getElementById("list-view").hidden = false;
    loadTasks().catch(report);
  });

  async function act(action, note) {
    try {
      const clue = await api(`/api/v1/clues/${current.id}/actions`, { method: "POST", body: { action, note } });
      flash(stateName(clue.state), "ok");
      await open(clue.id);
      loadTasks().catch(report);
    } catch (error) {
      flash(error.message, "error");
    }
  }

  document.getElementById("do-accept").addEventListener("click", () => act("accept", null));
  document.getElementById("do-arrive").addEventListener("click", () => act("arrive", null));
  document.getElementById("do-return").addEventListener("click", () => {
    const note = document.getElementById("return-note").value.trim();
    if (!note) return flash(t("reason_required"), "error");
    act("return", note);
  });

  const photoInput = document.getElementById("handle-photo");
  photoInput.addEventListener("change", () => {
    const file = photoInput.files[0];
    const preview = document.getElementById("handle-preview");
    preview.hidden = !file;
    if (file) preview.src = URL.createObjectURL(file);
  });

  document.getElementById("do-handle").addEventListener("click", async () => {
    const file = photoInput.files[0];
    if (!file) return flash(t("photo_required"), "error");
    const note = document.getElementById("handle-note").value.trim() || null;
    const form = new FormData();
    form.append("photo", file);
    if (note) form.append("note", note);
    flash(t("uploading"));
    try {
      await api(`/api/v1/clues/${current.id}/evidence`, { method: "POST", form });
    } catch (error) {
      return flash(error.message, "error");
    }
    photoInput.value = "";
    document.getElementById("handle-preview").hidden = true;
    await act("handle", note);
  });

  /* A new assignment: a full-screen card, a beep and a vibration, at once. */
  function announce(data) {
    announced = data;
    document.getElementById("announce-matter").textContent = data.matter_name || data.matter_code || "";
    document.getElementById("announce-where").textContent = [data.service_request_id, data.description].filter(Boolean).join(" · ");
    document.getElementById("announce-deadline").textContent = countdown(data.deadline).text;
    const box = document.getElementById("announce");
    box.dataset.clueId = data.clue_id;
    box.hidden = false;
    api(`/api/v1/clues/${data.clue_id}`).then((clue) => {
      document.getElementById("announce-matter").textContent = clue.matter_name;
      document.getElementById("announce-where").textContent = [clue.service_request_id, clue.jurisdiction_name, clue.description].filter(Boolean).join(" · ");
    }).catch(() => null);
    if (navigator.vibrate) navigator.vibrate([300, 100, 300]);
    beep();
  }

  function beep() {
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      for (const [start, freq] of [[0, 880], [0.25, 1175]]) {
        const osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.3, audio.currentTime + start);
        gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + 0.22);
        osc.connect(gain).connect(audio.destination);
        osc.start(audio.currentTime + start);
        osc.stop(audio.currentTime + start + 0.23);
      }
    } catch (error) {
      /* no audio on this device */
    }
  }

  document.getElementById("announce-open").addEventListener("click", () => {
    const id = Number(document.getElementById("announce").dataset.clueId);
    document.getElementById("announce").hidden = true;
    announced = null;
    open(id).catch(report);
  });

  const refresh = debounce(() => {
    loadTasks().catch(report);
    if (current) api(`/api/v1/clues/${current.id}`).then((c) => c.state !== current.state && open(c.id)).catch(() => null);
  }, 250);

  function onEvent(event) {
    const data = event.data;
    const forMe = (event.type === "clue.dispatched" && data.squad_code === mySquad) ||
      (event.type === "clue.assist_dispatched" && data.squad_code === mySquad);
    if (forMe) announce(data);
    refresh();
  }

  function report(error) {
    console.error(error);
    flash(error.message, "error");
  }

  liveEvents(onEvent, showStatus);
  loadTasks().catch(report);
  api("/api/v1/jurisdictions?max_level=street&tolerance=30").then((areas) => MapKit.drawJurisdictions(areas, layer("jurisdictions"))).catch(() => null);
})();
