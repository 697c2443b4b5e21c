"use strict";
const params = new URLSearchParams(location.hash.slice(1));
const stream = params.get("stream") || "";
const token = params.get("token") || "";
const $ = (id) => document.getElementById(id);
let pc = null, media = null, session = null, watchId = null;

function setState(state) {
  document.body.dataset.state = state;
  $("state").textContent = state;
}

function gathered(connection, ms) {
  // The server does not take trickled candidates: send the offer with all of them.
  if (connection.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (connection.iceGatheringState === "complete") resolve(); };
    connection.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ms);
  });
}

async function start() {
  $("error").textContent = "";
  $("start").disabled = true;
  try {
    setState("camera");
    media = await navigator.mediaDevices.getUserMedia({
      video: { width: 640, height: 480, frameRate: 30 },
      audio: params.get("audio") === "1",
    });
    $("preview").srcObject = media;
    pc = new RTCPeerConnection({ iceServers: [] });
    for (const track of media.getTracks()) pc.addTransceiver(track, { direction: "sendonly" });
    pc.addEventListener("connectionstatechange", () => setState(pc.connectionState));
    await pc.setLocalDescription(await pc.createOffer());
    setState("gathering");
    await gathered(pc, 2000);
    const response = await fetch(`/whip/${encodeURIComponent(stream)}`, {
      method: "POST",
      headers: { "Content-Type": "application/sdp", "Authorization": `Bearer ${token}` },
      body: pc.localDescription.sdp,
    });
    const text = await response.text();
    if (response.status !== 201) throw new Error(`${response.status} ${text}`);
    session = response.headers.get("Location");
    await pc.setRemoteDescription({ type: "answer", sdp: text });
    if (params.get("position") === "1") reportPosition();
    $("stop").disabled = false;
  } catch (error) {
    $("error").textContent = String(error.message || error);
    setState("failed");
    await stop();
  }
}

function reportPosition() {
  if (!navigator.geolocation) return;
  watchId = navigator.geolocation.watchPosition((where) => {
    const c = where.coords;
    fetch("/api/v1/telemetry", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": `Bearer ${token}` },
      body: JSON.stringify({
        lon: c.longitude, lat: c.latitude, crs: "wgs84",
        at: new Date(where.timestamp).toISOString(),
        heading: Number.isFinite(c.heading) ? c.heading % 360 : null,
        speed: Number.isFinite(c.speed) ? c.speed : null,
        altitude: Number.isFinite(c.altitude) ? c.altitude : null,
        accuracy: c.accuracy,
      }),
    }).catch(() => {});
  }, () => {}, { enableHighAccuracy: true });
}

async function stop() {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
  if (session) {
    await fetch(session, { method: "DELETE", headers: { "Authorization": `Bearer ${token}` } })
      .catch(() => {});
    session = null;
  }
  if (pc) pc.close();
  if (media) media.getTracks().forEach((t) => t.stop());
  pc = media = null;
  $("stop").disabled = true;
  $("start").disabled = false;
  if (document.body.dataset.state !== "failed") setState("stopped");
}

$("stream").textContent = stream;
$("start").addEventListener("click", start);
$("stop").addEventListener("click", stop);
window.addEventListener("pagehide", stop);
if (params.get("autostart") === "1") start();
