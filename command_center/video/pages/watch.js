"use strict";
const params = new URLSearchParams(location.hash.slice(1));
const stream = params.get("stream") || "";
const token = params.get("token") || "";
const $ = (id) => document.getElementById(id);
let pc = null, session = null;

function setState(state) {
  document.body.dataset.state = state;
  $("state").textContent = state;
}

function gathered(connection, ms) {
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
    pc = new RTCPeerConnection({ iceServers: [] });
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addEventListener("track", (event) => {
      const view = $("view");
      if (!view.srcObject) view.srcObject = new MediaStream();
      view.srcObject.addTrack(event.track);
    });
    pc.addEventListener("connectionstatechange", () => setState(pc.connectionState));
    await pc.setLocalDescription(await pc.createOffer());
    setState("gathering");
    await gathered(pc, 2000);
    const response = await fetch(`/whep/${encodeURIComponent(stream)}`, {
      method: "POST",
      headers: { "Content-Type": "application/sdp", "Authorization": `Bearer ${token}` },
      body: pc.localDescription.sdp,
    });
    const text = await response.text();
    if (response.status !== 201) throw new Error(`${response.status} ${text}`);
    session = response.headers.get("Location");
    await pc.setRemoteDescription({ type: "answer", sdp: text });
    $("stop").disabled = false;
  } catch (error) {
    $("error").textContent = String(error.message || error);
    setState("failed");
    await stop();
  }
}

async function stop() {
  if (session) {
    await fetch(session, { method: "DELETE", headers: { "Authorization": `Bearer ${token}` } })
      .catch(() => {});
    session = null;
  }
  if (pc) pc.close();
  pc = null;
  $("stop").disabled = true;
  $("start").disabled = false;
  if (document.body.dataset.state !== "failed") setState("stopped");
}

$("stream").textContent = stream;
$("start").addEventListener("click", start);
$("stop").addEventListener("click", stop);
window.addEventListener("pagehide", stop);
if (params.get("autostart") === "1") start();
