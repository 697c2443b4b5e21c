/* Shared by every console page: configuration, the signed-in session (or a kiosk's token
   kept in a cookie; a token in the URL still works for scripts), the JSON API,
   live events with resume, GCJ-02 display shift, formatting. No outside host is used. */
"use strict";

const CC = (() => {
  const config = JSON.parse(document.getElementById("page-config").textContent);
  const params = new URLSearchParams(location.search);
  const token = params.get("token") || "";
  /* Sent back on every request that changes something (the cookie alone is refused). */
  const csrf = config.csrf || "";
  const words = config.i18n || {};
  const t = (key) => (key in words ? words[key] : key);

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  function authHeaders(extra) {
    const headers = Object.assign({}, extra || {});
    if (token) headers.Authorization = "Bearer " + token;
    else if (csrf) headers["X-CSRF-Token"] = csrf;
    return headers;
  }

  async function api(path, options = {}) {
    const init = { method: options.method || "GET", headers: authHeaders(options.headers) };
    if (options.form) init.body = options.form;
    else if (options.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;
    const response = await fetch(path, init);
    if (response.status === 401 && !token) signInAgain();
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) {
      let detail = response.statusText;
      if (data && data.detail) detail = data.detail;
      else if (Array.isArray(data) && data[0] && data[0].description) detail = data[0].description;
      throw new ApiError(response.status, detail);
    }
    return data;
  }

  /* An image behind the token, as an object URL (the token stays out of image URLs). */
  async function imageUrl(path) {
    const response = await fetch(path, { headers: authHeaders() });
    if (!response.ok) throw new ApiError(response.status, response.statusText);
    return URL.createObjectURL(await response.blob());
  }

  function socketUrl(path, query) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}${path}?${new URLSearchParams(query)}`;
  }

  /* /ws: every event in the token's scope. Reconnects with after=<last id>, so nothing
     is missed across a drop; 4401 (bad token) stops. `after` (an event id already shown)
     makes the first connection resume from there too. */
  function liveEvents(onEvent, onStatus, after = null) {
    let last = after;
    let delay = 500;
    function open() {
      const query = token ? { token } : {};
      if (last !== null) query.after = String(last);
      const socket = new WebSocket(socketUrl("/ws", query));
      socket.onopen = () => {
        delay = 500;
        onStatus("connected");
      };
      socket.onmessage = (message) => {
        const event = JSON.parse(message.data);
        if (last !== null && event.id <= last) return;
        last = event.id;
        onEvent(event);
      };
      socket.onclose = (closed) => {
        if (closed.code === 4401 || closed.code === 4403) {
          onStatus("offline");
          if (!token && closed.code === 4401) signInAgain();
          return;
        }
        onStatus("reconnecting");
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    open();
  }

  /* /ws/telemetry: a snapshot of device positions, then live positions. */
  function telemetry(onMessage) {
    let delay = 1000;
    function open() {
      const socket = new WebSocket(socketUrl("/ws/telemetry", token ? { token } : {}));
      socket.onopen = () => (delay = 1000);
      socket.onmessage = (message) => onMessage(JSON.parse(message.data));
      socket.onclose = (closed) => {
        if (closed.code === 4401 || closed.code === 1008) return;
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    open();
  }

  /* The session ended (signed out elsewhere, idle, disabled): back to the sign-in page. */
  function signInAgain() {
    if (leaving) return;
    leaving = true;
    const next = encodeURIComponent(location.pathname + location.search).replace(/%2F/g, "/");
    location.assign("/login?next=" + next);
  }

  let leaving = false;
  async function signOut() {
    leaving = true;
    await fetch("/auth/logout", { method: "POST", headers: authHeaders() });
    location.assign("/login");
  }

  function showStatus(status) {
    const element = document.getElementById("conn");
    if (!element) return;
    element.dataset.status = status;
    element.textContent = t(status);
  }

  /* GCJ-02, the twin of gis/crs.py: the published forward formula and an iterative
     inverse. Used only to draw on GCJ-02 tiles and to read clicks made on them. */
  const GCJ = (() => {
    const A = 6378245.0;
    const EE = 0.00669342162296594323;
    const inChina = (lon, lat) => lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
    function waves(x, y, first, second, divisor) {
      const fast = 20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI);
      const medium = 20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI);
      const slow = first * Math.sin((y / 12) * Math.PI) + second * Math.sin((y * Math.PI) / divisor);
      return ((fast + medium + slow) * 2) / 3;
    }
    function offset(lon, lat) {
      const x = lon - 105, y = lat - 35;
      const dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + waves(x, y, 160, 320, 30);
      const dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + waves(x, x, 150, 300, 30);
      const radLat = (lat * Math.PI) / 180;
      const magic = 1 - EE * Math.sin(radLat) ** 2;
      const sqrtMagic = Math.sqrt(magic);
      const meridian = (A * (1 - EE)) / (magic * sqrtMagic);
      const parallel = (A / sqrtMagic) * Math.cos(radLat);
      return [(dLon * 180) / (parallel * Math.PI), (dLat * 180) / (meridian * Math.PI)];
    }
    function toGcj(lon, lat) {
      if (!inChina(lon, lat)) return [lon, lat];
      const [dlon, dlat] = offset(lon, lat);
      return [lon + dlon, lat + dlat];
    }
    function toWgs(lon, lat) {
      if (!inChina(lon, lat)) return [lon, lat];
      let [x, y] = [lon, lat];
      for (let i = 0; i < 30; i++) {
        const [gx, gy] = toGcj(x, y);
        const [ex, ey] = [gx - lon, gy - lat];
        x -= ex;
        y -= ey;
        if (Math.abs(ex) < 1e-9 && Math.abs(ey) < 1e-9) break;
      }
      return [x, y];
    }
    return { toGcj, toWgs };
  })();

  const shifted = config.tiles && config.tiles.crs === "gcj02";
  /* WGS84 lon/lat → the Leaflet [lat, lng] drawn on this page's tiles. */
  function toMap(lon, lat) {
    const [x, y] = shifted ? GCJ.toGcj(lon, lat) : [lon, lat];
    return [y, x];
  }
  /* A Leaflet latlng on this page's tiles → WGS84 {lon, lat}. */
  function fromMap(latlng) {
    const [lon, lat] = shifted ? GCJ.toWgs(latlng.lng, latlng.lat) : [latlng.lng, latlng.lat];
    return { lon, lat };
  }

  const zone = config.zone || "Asia/Shanghai";
  const locale = config.lang === "en" ? "en-GB" : "zh-CN";
  /* A moment as people read it, never ambiguous: 12月3日 18:41 / 3 Dec 18:41 (in TIMEZONE). */
  const timeFormat = new Intl.DateTimeFormat(locale, {
    timeZone: zone, month: config.lang === "en" ? "short" : "numeric", day: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  function readable(date) {
    const p = Object.fromEntries(timeFormat.formatToParts(date).map((x) => [x.type, x.value]));
    const time = `${p.hour}:${p.minute}`;
    return config.lang === "en" ? `${p.day} ${p.month} ${time}` : `${p.month}月${p.day}日 ${time}`;
  }
  const clockFormat = new Intl.DateTimeFormat(locale, {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", weekday: "short",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  const when = (iso) => (iso ? readable(new Date(iso)) : "");
  function clock() {
    const p = Object.fromEntries(clockFormat.formatToParts(new Date()).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.weekday} ${p.hour}:${p.minute}:${p.second}`;
  }

  function duration(ms) {
    const total = Math.max(0, Math.floor(Math.abs(ms) / 1000));
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return `${h}:${pad(m)}:${pad(s)}`;
  }

  /* "剩余 1:02:03" or "已超期 0:10:00", with whether it is overdue. */
  function countdown(deadline) {
    if (!deadline) return { text: t("no_deadline"), overdue: false };
    const left = new Date(deadline).getTime() - Date.now();
    return left >= 0
      ? { text: `${t("remaining")} ${duration(left)}`, overdue: false }
      : { text: `${t("overdue_by")} ${duration(left)}`, overdue: true };
  }

  const distance = (m) => (m >= 1000 ? `${(m / 1000).toFixed(1)} ${t("km")}` : `${Math.round(m)} ${t("m")}`);
  const stateName = (state) => t("state_" + state);
  const eventName = (type) => (("ev_" + type) in words ? t("ev_" + type) : t("ev_other"));

  /* h("li", {class: "x", dataset: {id: 1}}, "text", child) */
  function h(tag, attrs, ...children) {
    const element = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "dataset") Object.assign(element.dataset, value);
      else if (key === "class") element.className = value;
      else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
      else element.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  /* Calls fn at most every `ms`, the last call always running. */
  function throttle(fn, ms) {
    let last = 0, timer = null;
    return () => {
      const wait = last + ms - Date.now();
      clearTimeout(timer);
      if (wait <= 0) {
        last = Date.now();
        fn();
      } else {
        timer = setTimeout(() => {
          last = Date.now();
          fn();
        }, wait);
      }
    };
  }

  function flash(text, kind) {
    const element = document.getElementById("flash");
    if (!element) return;
    element.textContent = text;
    element.dataset.kind = kind || "info";
  }

  /* On a demo database every page says so: a "演示" badge in the header (GET /api/v1/demo). */
  async function demoBadge() {
    const answer = await fetch("/api/v1/demo").then((r) => (r.ok ? r.json() : null)).catch(() => null);
    if (!answer || !answer.demo) return;
    const badge = h("span", { class: "demo-badge", id: "demo-badge", title: answer.city || "" }, answer.badge);
    const place = document.querySelector("header .brand, header .who");
    if (place) place.append(badge);
    else document.body.prepend(badge);
  }
  demoBadge();

  /* The language switch keeps the token and everything else in the URL. */
  function wireLanguageSwitch() {
    const link = document.getElementById("lang-switch");
    if (!link) return;
    const next = new URLSearchParams(location.search);
    next.set("lang", config.lang === "en" ? "zh-CN" : "en");
    link.href = `${location.pathname}?${next}`;
  }

  async function scopeLabel() {
    const element = document.getElementById("scope");
    const principal = config.principal;
    if (!element || !principal) return;
    const role = t("role_" + principal.role);
    element.textContent = principal.squad ? `${principal.squad} · ${role}` : `${t("scope_all")} · ${role}`;
    return element;
  }

  wireLanguageSwitch();
  const signOutButton = document.getElementById("sign-out");
  if (signOutButton) signOutButton.addEventListener("click", signOut);
  scopeLabel();

  return {
    config, token, t, api, imageUrl, signOut, ApiError, liveEvents, telemetry, showStatus, GCJ, toMap, fromMap,
    when, clock, countdown, duration, distance, stateName, eventName, h, debounce, throttle, flash,
  };
})();
