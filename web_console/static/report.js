/* The resident page (what the mini-program shows): a tip with photos and a location,
   then its progress by code, and a rating once it is closed. No token. */
"use strict";

(() => {
  const { api, t, h, when, flash, fromMap, config } = CC;
  const { map, layer } = MapKit;
  const STORE = "cc-my-reports";
  let spot = null; // WGS84 {lon, lat}
  let pin = null;
  const deviceId = localStorage.getItem("cc-device") || `web-${crypto.getRandomValues(new Uint32Array(2)).join("")}`;
  localStorage.setItem("cc-device", deviceId);

  const mine = () => JSON.parse(localStorage.getItem(STORE) || "[]");
  const remember = (code, secret) => localStorage.setItem(STORE, JSON.stringify([{ code, secret, at: Date.now() }, ...mine().filter((r) => r.code !== code)].slice(0, 20)));
  const secretOf = (code) => (mine().find((r) => r.code === code) || {}).secret || null;

  function showTab(name) {
    document.querySelectorAll("[data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
    document.getElementById("report-form").hidden = name !== "report";
    document.getElementById("receipt").hidden = true;
    document.getElementById("follow").hidden = name !== "follow";
    if (name === "follow") listMine();
    else map.invalidateSize();
  }
  document.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));

  async function loadServices() {
    const services = await api("/open311/v2/services.json");
    const groups = new Map();
    for (const s of services) {
      if (!groups.has(s.group)) groups.set(s.group, []);
      groups.get(s.group).push(s);
    }
    const select = document.getElementById("service");
    for (const [group, items] of groups) select.append(h("optgroup", { label: group }, ...items.map((s) => h("option", { value: s.service_code }, s.service_name))));
  }

  function place(lon, lat) {
    spot = { lon, lat };
    const at = CC.toMap(lon, lat);
    if (pin) pin.setLatLng(at);
    else {
      pin = L.marker(at, { icon: L.divIcon({ className: "pin", iconSize: [22, 22], iconAnchor: [11, 22], html: "<i></i>" }) });
      layer("clues").addLayer(pin);
    }
    document.getElementById("where").textContent = `${t("location_set")}: ${lat.toFixed(5)}, ${lon.toFixed(5)}`;
    document.getElementById("where").dataset.set = "1";
  }

  map.on("click", (e) => {
    const { lon, lat } = fromMap(e.latlng);
    place(lon, lat);
  });

  document.getElementById("locate").addEventListener("click", () => {
    if (!navigator.geolocation) return flash(t("geo_failed"), "error");
    navigator.geolocation.getCurrentPosition(
      (p) => {
        place(p.coords.longitude, p.coords.latitude); // the browser's position is WGS84
        map.setView(CC.toMap(p.coords.longitude, p.coords.latitude), 16);
      },
      () => flash(t("geo_failed"), "error"),
      { enableHighAccuracy: true, timeout: 10000 });
  });

  const photos = document.getElementById("photos");
  photos.addEventListener("change", () => {
    document.getElementById("photo-previews").replaceChildren(...[...photos.files].map((f) => h("img", { src: URL.createObjectURL(f), alt: f.name })));
  });

  document.getElementById("report-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const service = document.getElementById("service").value;
    if (!service) return flash(t("matter_needed"), "error");
    if (!spot) return flash(t("location_needed"), "error");
    const form = new FormData();
    form.append("service_code", service);
    form.append("lon", spot.lon.toFixed(7));
    form.append("lat", spot.lat.toFixed(7));
    form.append("crs", "wgs84");
    form.append("device_id", deviceId);
    const description = document.getElementById("description").value.trim();
    if (description) form.append("description", description);
    const phone = document.getElementById("phone").value.trim();
    if (phone) form.append("phone", phone);
    for (const file of photos.files) form.append("photos", file);
    const button = document.getElementById("submit");
    button.disabled = true;
    flash(t("submitting"));
    try {
      const receipt = await api("/api/v1/public/tips", { method: "POST", form });
      remember(receipt.progress_code, receipt.secret);
      showReceipt(receipt);
      event.target.reset();
      document.getElementById("photo-previews").replaceChildren();
      flash("");
    } catch (error) {
      flash(error.message, "error");
    } finally {
      button.disabled = false;
    }
  });

  function showReceipt(receipt) {
    document.getElementById("report-form").hidden = true;
    const box = document.getElementById("receipt");
    box.hidden = false;
    box.dataset.code = receipt.progress_code;
    document.getElementById("receipt-code").textContent = receipt.progress_code;
    document.getElementById("receipt-state").textContent = t("state_" + receipt.state);
    document.getElementById("receipt-qr").src = `/api/v1/public/clues/${encodeURIComponent(receipt.progress_code)}/qr.svg`;
    document.getElementById("receipt-secret").textContent = receipt.secret;
  }

  document.getElementById("receipt-follow").addEventListener("click", () => {
    const code = document.getElementById("receipt").dataset.code;
    showTab("follow");
    document.getElementById("follow-code").value = code;
    follow(code);
  });

  document.getElementById("follow-form").addEventListener("submit", (event) => {
    event.preventDefault();
    follow(document.getElementById("follow-code").value.trim());
  });

  async function follow(code) {
    const box = document.getElementById("progress");
    const secret = secretOf(code);
    let body;
    try {
      body = await api(`/api/v1/public/clues/${encodeURIComponent(code)}`, { headers: secret ? { "X-Tracking-Secret": secret } : {} });
    } catch (error) {
      box.hidden = true;
      return flash(error.status === 404 ? t("not_found") : error.message, "error");
    }
    box.hidden = false;
    box.dataset.code = code;
    box.dataset.status = body.status;
    document.getElementById("p-service").textContent = body.service_name;
    document.getElementById("p-code").textContent = code;
    document.getElementById("p-status").textContent = t("status_" + body.status);
    document.getElementById("p-agency").textContent = [body.agency_responsible, body.status_notes].filter(Boolean).join(" · ");
    document.getElementById("p-history").replaceChildren(...body.history.map((item) => h("li", {}, h("time", { datetime: item.at }, when(item.at)), item.description)));
    document.getElementById("p-photos").replaceChildren(...body.photos.map((url) => h("img", { src: url, alt: t("photos") })));
    rating(code, secret, body.can_rate === true);
  }

  let stars = 0;
  function rating(code, secret, can) {
    const box = document.getElementById("rate-box");
    box.hidden = !can;
    if (!can) return;
    const row = document.getElementById("stars");
    const paint = () => row.querySelectorAll("button").forEach((b, i) => b.classList.toggle("on", i < stars));
    row.replaceChildren(...[1, 2, 3, 4, 5].map((n) => h("button", { type: "button", "aria-label": String(n), onclick: () => ((stars = n), paint()) }, "★")));
    document.getElementById("rate").onclick = async () => {
      if (!stars) return;
      try {
        await api(`/api/v1/public/clues/${encodeURIComponent(code)}/rating`, { method: "POST", body: { secret, rating: stars, comment: document.getElementById("rate-comment").value.trim() || null } });
        box.hidden = true;
        flash(t("rated"), "ok");
      } catch (error) {
        flash(error.message, "error");
      }
    };
  }

  function listMine() {
    document.getElementById("my-reports").replaceChildren(...mine().map((r) => h("li", { onclick: () => ((document.getElementById("follow-code").value = r.code), follow(r.code)) }, `${r.code} · ${when(new Date(r.at).toISOString())}`)));
  }

  loadServices().catch((error) => flash(error.message, "error"));
  api("/api/v1/public/jurisdictions?max_level=district").then((areas) => {
    MapKit.drawJurisdictions(areas, layer("jurisdictions"));
    MapKit.fitTo(areas);
    document.body.dataset.state = "ready";
  }).catch((error) => flash(error.message, "error"));
})();
